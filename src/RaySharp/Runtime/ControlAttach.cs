using System.Net.Sockets;
using Grpc.Core;
using RaySharp.Control;

namespace RaySharp.Runtime;

/// <summary>
/// The first step of attaching a driver by address: ask the node's control service where its data-plane
/// socket is. Any failure becomes a <see cref="RaySystemException"/> that says what was tried and what to do.
/// </summary>
internal static class ControlAttach
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Socket errors of a connect that found nothing to talk to.</summary>
    private static readonly SocketError[] Unreachable =
        [SocketError.ConnectionRefused, SocketError.AddressNotAvailable, SocketError.HostNotFound, SocketError.HostUnreachable, SocketError.NetworkUnreachable, SocketError.TimedOut];

    public static async Task<NodeInfo> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        using var channel = ControlChannel.Open(address);
        var client = new NodeControl.NodeControlClient(channel);
        NodeInfo info;
        try
        {
            info = await client.GetNodeInfoAsync(new NodeInfoRequest(), deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && ConnectFailed(address, e))
        {
            throw new RaySystemException(
                $"Nothing is listening at '{address}' ({e.Status.Detail}): no RaySharp node runs there. Start one with " +
                "'raysharp start --head' and use the RAYSHARP_ADDRESS it prints, or unset RAYSHARP_ADDRESS to start an embedded cluster.", e);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            throw new RaySystemException($"'{address}' did not answer within {Deadline.TotalSeconds:0} s; is it a RaySharp node's control address?", e);
        }
        catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
        {
            throw new RaySystemException(
                $"'{address}' answered, but not as a RaySharp control service ({e.StatusCode}: {e.Status.Detail}). " +
                "Use the address 'raysharp start --head' prints (control.sock or host:port), not the node's data socket.", e);
        }
        if (!File.Exists(info.DataSocket))
        {
            throw new RaySystemException(
                $"The node at '{address}' (node {info.NodeId}) keeps its data socket at {info.DataSocket}, which is not on this machine. " +
                "Drivers must run on the node's machine until multi-node clusters are built.");
        }
        return info;
    }

    /// <summary>
    /// True when no connection could be made (no socket file, connection refused, no route) rather than a
    /// connection that spoke something else (reset or closed after the peer rejected HTTP/2).
    /// </summary>
    private static bool ConnectFailed(string address, RpcException e)
    {
        if (ControlChannel.Parse(address).SocketPath is { } path && !File.Exists(path))
            return true;
        for (var inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket && Unreachable.Contains(socket.SocketErrorCode))
                return true;
        }
        return false;
    }
}
