using System.Net.Sockets;
using Grpc.Net.Client;

namespace RaySharp.Control;

/// <summary>
/// Opens gRPC channels to a node's control service (<see cref="NodeControl"/>) from the addresses a node
/// prints: <c>unix:/tmp/raysharp-&lt;uid&gt;/session-…/control.sock</c> (or the bare path), <c>host:port</c> or
/// <c>http://host:port</c>.
/// </summary>
/// <example>
/// <code>
/// using var channel = ControlChannel.Open(Environment.GetEnvironmentVariable("RAYSHARP_ADDRESS")!);
/// var status = await new NodeControl.NodeControlClient(channel).GetClusterStatusAsync(new ClusterStatusRequest());
/// Console.WriteLine(status.Nodes[0].Resources);
/// </code>
/// </example>
public static class ControlChannel
{
    /// <summary>Opens a channel (no connection is made until the first call).</summary>
    /// <param name="address">A control address as printed by <c>raysharp start --head</c> or <see cref="Ray.Address"/>.</param>
    /// <exception cref="ArgumentException">The address is empty or in no known form.</exception>
    public static GrpcChannel Open(string address)
    {
        var (uri, socketPath) = Parse(address);
        if (socketPath is null)
            return GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } });
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = handler });
    }

    /// <summary>
    /// The canonical form of <paramref name="address"/> (<c>unix:/path</c> or <c>http://host:port</c>) and,
    /// for a Unix socket, its path.
    /// </summary>
    internal static (Uri Uri, string? SocketPath) Parse(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        address = address.Trim();
        if (address.StartsWith("unix:", StringComparison.Ordinal))
            address = address["unix:".Length..];
        if (address.StartsWith('/'))
            return (new Uri("http://localhost"), address);
        if (address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            return (new Uri(address), null);
        var colon = address.LastIndexOf(':');
        if (colon > 0 && int.TryParse(address.AsSpan(colon + 1), out var port) && port is > 0 and <= 65535)
            return (new Uri($"http://{address}"), null);
        throw new ArgumentException(
            $"'{address}' is not a RaySharp address: use the one 'raysharp start --head' prints, e.g. unix:/tmp/raysharp-<uid>/session-…/control.sock " +
            "or 127.0.0.1:6379 (host:port of a node started with --port).", nameof(address));
    }
}
