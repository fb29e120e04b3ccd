using Microsoft.Extensions.Logging;

namespace RaySharp.Chain.Server;

/// <summary>A chain server's log events (source-generated, with event ids).</summary>
internal static partial class ServerEvents
{
    [LoggerMessage(EventId = 1410, Level = LogLevel.Warning,
        Message = "Server {Server} skipped the malformed lease record '{Key}' of group {Group}: it is not timed or expired; every other lease is.")]
    public static partial void MalformedLeaseSkipped(ILogger logger, int server, int group, string key);

    [LoggerMessage(EventId = 1411, Level = LogLevel.Warning,
        Message = "Server {Server}: a new connection from {Peer} proved to be server {Claimed} with the cluster token; it replaces that server's previous connection.")]
    public static partial void PeerConnectionReplaced(ILogger logger, int server, string peer, int claimed);
}
