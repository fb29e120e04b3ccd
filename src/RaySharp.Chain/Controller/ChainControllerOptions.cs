using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaySharp.Security;

namespace RaySharp.Chain.Controller;

/// <summary>Settings of the chain controller. Every default is documented and checked by <see cref="Validate"/>.</summary>
public sealed class ChainControllerOptions
{
    /// <summary>Where to listen. Default 127.0.0.1 on a free port.</summary>
    public IPEndPoint ListenEndPoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>Directory of the controller's fsync'd configuration log; null (default) keeps it in memory,
    /// so a restarted controller starts an empty cluster.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Chain length f + 1 (default 3, i.e. f = 2): a group survives f server failures.</summary>
    public int Replicas { get; set; } = 3;

    /// <summary>Number of virtual groups keys are hashed into (default 64). Fixed for the cluster's life.</summary>
    public int GroupCount { get; set; } = 64;

    /// <summary>Servers that must register before groups are first assigned (default: <see cref="Replicas"/>).</summary>
    public int? InitialServers { get; set; }

    /// <summary>
    /// Bounded failure detection: a server silent this long is declared failed (default 1 s). A server
    /// whose connection drops and whose port refuses connections is declared failed at once. Must exceed
    /// the servers' read lease.
    /// </summary>
    public TimeSpan FailureTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Failure recovery waits this long after a fast failover before it names joiners (default 50 ms; 0: at
    /// once). The writes a failure stalled are retried on the shortened chains meanwhile; recovery's
    /// configurations (joiners named, snapshots sent, switch-overs) then do not land on the servers while
    /// those writes drain. f + 1 replicas are back this much later.
    /// </summary>
    public TimeSpan RecoveryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Fault injection for tests: servers that never receive a pushed configuration (as when the controller
    /// crashes between logging a configuration and pushing it). They still register and heartbeat, so they
    /// must learn new configurations another way. Default: none.
    /// </summary>
    public IReadOnlyCollection<int> FaultSkipPushTo { get; set; } = [];

    /// <summary>The cluster token every connection must prove (docs/security.md): clients, peers and the controller
    /// connecting here, and this server connecting to them. Null (default): no token is asked for or sent.</summary>
    public ClusterToken? Token { get; set; }

    /// <summary>TLS for every connection this process opens or accepts (a certificate and key are required to accept;
    /// with a CA, peers must present a certificate it issued). Null (default): plain TCP.</summary>
    public TlsOptions? Tls { get; set; }

    /// <summary>Where refused connections are logged (with the peer's address, at most 10 a minute). Default: nowhere.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Tls?.Validate(server: true);
        if (Replicas is < 1 or > 16)
            throw new ArgumentException($"Replicas must be in [1, 16] (got {Replicas}); it is f + 1.");
        if (GroupCount is < 1 or > 65535)
            throw new ArgumentException($"GroupCount must be in [1, 65535] (got {GroupCount}).");
        if (InitialServers is < 1)
            throw new ArgumentException($"InitialServers must be ≥ 1 (got {InitialServers}).");
        if (FailureTimeout < TimeSpan.FromMilliseconds(50))
            throw new ArgumentException($"FailureTimeout must be at least 50 ms (got {FailureTimeout}).");
        if (RecoveryDelay < TimeSpan.Zero || RecoveryDelay > TimeSpan.FromSeconds(10))
            throw new ArgumentException($"RecoveryDelay must be between 0 and 10 s (got {RecoveryDelay}).");
    }
}
