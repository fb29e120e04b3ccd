namespace RaySharp.Chain.Client;

/// <summary>The cluster map as the controller last committed it.</summary>
/// <param name="Epoch">Configuration number; every change (failover, join, rebalance) increments it.</param>
/// <param name="Replicas">Desired chain length, f + 1.</param>
/// <param name="Chains">Per virtual group, its chain of server ids, head first.</param>
/// <param name="Joining">Per virtual group, the server being pre-synchronised to join it, or -1.</param>
public sealed record ChainClusterView(long Epoch, int Replicas, IReadOnlyList<IReadOnlyList<int>> Chains, IReadOnlyList<int> Joining)
{
    /// <summary>True when every group has f + 1 servers, all among <paramref name="liveServers"/>, and no join is in progress.</summary>
    public bool IsFullyReplicatedOn(IReadOnlyCollection<int> liveServers)
    {
        ArgumentNullException.ThrowIfNull(liveServers);
        return Chains.All(c => c.Count == Replicas && c.All(liveServers.Contains)) && Joining.All(j => j < 0);
    }
}

public sealed partial class ChainClient
{
    /// <summary>Fetches the current configuration from the controller (or a server when the controller is down).</summary>
    public async Task<ChainClusterView> GetClusterViewAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            _refreshing = null;
        var config = await RefreshAsync(cancellationToken).ConfigureAwait(false);
        return new ChainClusterView(config.Epoch, config.Replicas, [.. config.Chains.Select(c => (IReadOnlyList<int>)[.. c])], [.. config.Joining]);
    }
}

public sealed partial class ChainClient
{
    /// <summary>
    /// Asks the controller to move every group off <paramref name="serverId"/> (rebalancing onto the other
    /// servers, pre-synchronised) so that the server can be shut down without losing a replica.
    /// </summary>
    public async Task RemoveServerAsync(int serverId, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(serverId);
        var connection = await Protocol.FramedConnection.ConnectAsync(_options.Controller!, _options.AttemptTimeout, cancellationToken, _security).ConfigureAwait(false);
        await using var closing = connection.ConfigureAwait(false);
        connection.Start((_, _) => ValueTask.CompletedTask);
        var id = connection.NextRequestId();
        var reply = await connection.RequestAsync(id, new Protocol.FrameBuilder(Protocol.OpCode.RemoveServer, id).I32(serverId).Build(),
            _options.AttemptTimeout, cancellationToken).ConfigureAwait(false);
        if (reply.Op != Protocol.OpCode.Ok)
            throw new ChainUnavailableException($"The controller did not accept the removal of server {serverId} ({reply.Op}).");
    }
}
