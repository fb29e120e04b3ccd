using System.Diagnostics;
using System.Net;
using RaySharp.Chain.Diagnostics;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Client;

public sealed partial class ChainClient
{
    /// <summary>The open connection to the controller (null until the first fetch, or after it dropped).</summary>
    private FramedConnection? _controllerLink;

    /// <summary>Fetches the configuration (one fetch at a time), from the controller or, failing that, any server.</summary>
    private Task<ChainConfig> RefreshAsync(CancellationToken cancellationToken)
    {
        // One fetch at a time, shared by every caller, so it runs on the client's lifetime, not a caller's token.
        lock (_gate)
        {
            if (_refreshing is not { IsCompleted: false })
                _refreshing = FetchConfigAsync(_stop.Token);
            return _refreshing.WaitAsync(cancellationToken);
        }
    }

    private async Task<ChainConfig> FetchConfigAsync(CancellationToken cancellationToken)
    {
        Exception? last;
        try
        {
            var fetchStart = Stopwatch.GetTimestamp();
            var fetched = await FetchFromControllerAsync(cancellationToken).ConfigureAwait(false);
            if (ChainTrace.Enabled)
                ChainTrace.Write($"refresh epoch={fetched.Epoch} took_ms={Stopwatch.GetElapsedTime(fetchStart).TotalMilliseconds:0.00}");
            return Keep(fetched);
        }
        catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException or ProtocolException ||
            (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            last = e;
        }
        // The controller is down: ask every known server and keep the newest configuration (the first to
        // answer may not have heard of the latest one yet).
        IPEndPoint[] servers;
        lock (_gate)
            servers = _config is null ? [] : [.. _config.Servers.Values];
        var answers = servers.Select(s => FetchConfigFromAsync(s, cancellationToken)).ToArray();
        ChainConfig? newest = null;
        foreach (var answer in answers)
        {
            try
            {
                var config = await answer.ConfigureAwait(false);
                if (newest is null || config.Epoch > newest.Epoch)
                    newest = config;
            }
            catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException or ProtocolException ||
            (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                last = e;
            }
        }
        if (newest is not null)
            return Keep(newest);
        throw new ChainUnavailableException($"Could not load the cluster configuration from the controller at {_options.Controller} or any known server; is the controller running?", last);
    }

    /// <summary>
    /// Asks the controller on the open link, or opens one and subscribes to configuration pushes
    /// (<see cref="OpCode.WatchConfig"/>): the controller then sends every configuration it commits, so a
    /// client learns a failover when the servers do rather than at its next poll.
    /// </summary>
    private async Task<ChainConfig> FetchFromControllerAsync(CancellationToken cancellationToken)
    {
        FramedConnection? link;
        lock (_gate)
            link = _controllerLink;
        if (link is { Closed.IsCompleted: false } connection)
        {
            var id = connection.NextRequestId();
            return ReadConfig(await connection.RequestAsync(id, new FrameBuilder(OpCode.GetConfig, id).Build(), _options.AttemptTimeout, cancellationToken).ConfigureAwait(false));
        }
        var opened = await FramedConnection.ConnectAsync(_options.Controller!, _options.AttemptTimeout, cancellationToken, _security).ConfigureAwait(false);
        opened.Start(HandleControllerFrameAsync);
        lock (_gate)
        {
            if (_stop.IsCancellationRequested)
            {
                opened.Close();
                throw new OperationCanceledException("The client is disposed.");
            }
            _controllerLink?.Close();
            _controllerLink = opened;
        }
        var watch = opened.NextRequestId();
        return ReadConfig(await opened.RequestAsync(watch, new FrameBuilder(OpCode.WatchConfig, watch).Build(), _options.AttemptTimeout, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Configurations the controller pushes on the link (after a <see cref="OpCode.WatchConfig"/>).</summary>
    private ValueTask HandleControllerFrameAsync(FramedConnection connection, Frame frame)
    {
        if (frame.Op == OpCode.PushConfig)
        {
            var reader = frame.Reader();
            var config = ChainConfig.Read(ref reader);
            if (ChainTrace.Enabled)
                ChainTrace.Write($"pushed epoch={config.Epoch}");
            Keep(config);
        }
        return ValueTask.CompletedTask;
    }

    private ChainConfig Keep(ChainConfig config)
    {
        lock (_gate)
        {
            if (_config is null || config.Epoch > _config.Epoch)
            {
                var old = _config;
                _config = config;
                if (old is not null)
                    DropServersCutOut(old, config);
            }
            return _config;
        }
    }

    /// <summary>
    /// Called under the lock: closes the connections to servers that <paramref name="old"/> had in a chain and
    /// <paramref name="config"/> has in none (a failover cut them out). A killed server's sockets close only once
    /// the kernel has torn the process down, and the controller cuts it out about as soon as they do, so the
    /// configuration can be here before our connection has reported its close; the requests waiting on it then
    /// fail now, as that close would fail them (a write's outcome is unknown), and are retried on the new chain.
    /// </summary>
    private void DropServersCutOut(ChainConfig old, ChainConfig config)
    {
        List<int>? cut = null;
        foreach (var server in _connections.Keys)
        {
            if (InSomeChain(old, server) && !InSomeChain(config, server))
                (cut ??= []).Add(server);
        }
        if (cut is null)
            return;
        foreach (var server in cut)
        {
            Drop(server, _connections[server]);
            if (ChainTrace.Enabled)
                ChainTrace.Write($"cut-out server={server} epoch={config.Epoch}");
        }
        _openConnections = new(_connections);
    }

    private static bool InSomeChain(ChainConfig config, int server)
    {
        for (var g = 0; g < config.GroupCount; g++)
        {
            if (config.IndexOf(g, server) >= 0 || config.Joining[g] == server)
                return true;
        }
        return false;
    }

    private async Task<ChainConfig> FetchConfigFromAsync(IPEndPoint source, CancellationToken cancellationToken)
    {
        var connection = await FramedConnection.ConnectAsync(source, _options.AttemptTimeout, cancellationToken, _security).ConfigureAwait(false);
        await using var closing = connection.ConfigureAwait(false);
        connection.Start((_, _) => ValueTask.CompletedTask);
        var id = connection.NextRequestId();
        return ReadConfig(await connection.RequestAsync(id, new FrameBuilder(OpCode.GetConfig, id).Build(), _options.AttemptTimeout, cancellationToken).ConfigureAwait(false), source);
    }

    private static ChainConfig ReadConfig(Frame reply, IPEndPoint? source = null)
    {
        if (reply.Op != OpCode.ConfigReply)
            throw new ProtocolException(ErrorCode.Unavailable, $"{source?.ToString() ?? "The controller"} answered {reply.Op} to a configuration request.");
        var reader = reply.Reader();
        return ChainConfig.Read(ref reader);
    }
}
