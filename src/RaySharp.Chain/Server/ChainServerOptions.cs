using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaySharp.Security;

namespace RaySharp.Chain.Server;

/// <summary>Settings of one chain server. Every default is documented and checked by <see cref="Validate"/>.</summary>
public sealed class ChainServerOptions
{
    /// <summary>This server's id, unique in the cluster and stable across restarts (≥ 0). Required.</summary>
    public int ServerId { get; set; } = -1;

    /// <summary>Where to listen. Default 127.0.0.1 on a free port.</summary>
    public IPEndPoint ListenEndPoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>The controller's address. Required.</summary>
    public IPEndPoint? Controller { get; set; }

    /// <summary>Directory of the append-only log; null (default) keeps state in memory only.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>When the log is forced to disk (default <see cref="FsyncPolicy.None"/>).</summary>
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.None;

    /// <summary>Interval between heartbeats to the controller (default 50 ms).</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// How long after sending a heartbeat that the controller acknowledged the server may serve reads
    /// (default 500 ms). Must be shorter than the controller's failure-detection timeout so that a server
    /// the controller has given up on has stopped serving reads before its chain is rewired.
    /// </summary>
    public TimeSpan ReadLease { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Fault injection for tests: each replication frame received waits a random time up to this (default 0).</summary>
    public TimeSpan FaultMaxDelay { get; set; }

    /// <summary>Fault injection for tests: probability that a replication frame received closes its connection
    /// instead (the frame and everything in flight is dropped; the sender reconnects and resends). Default 0.</summary>
    public double FaultDropProbability { get; set; }

    /// <summary>
    /// Deliberately unsafe, for the checker's negative test only: serve reads at any replica that asks,
    /// not only the tail. Reads may then see writes that are not committed. Default false.
    /// </summary>
    public bool UnsafeReadsAtAnyReplica { get; set; }

    /// <summary>Seed of the fault-injection random source (default 1).</summary>
    public int Seed { get; set; } = 1;

    /// <summary>
    /// Log compaction: once the log file exceeds this size (default 64 MiB) and twice its size after the
    /// last compaction, it is rewritten as one record per key. Only with <see cref="DataDirectory"/>.
    /// </summary>
    public long LogCompactionBytes { get; set; } = 64L << 20;

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
        if (ServerId < 0)
            throw new ArgumentException($"ServerId must be ≥ 0 (got {ServerId}); give every server a distinct id.");
        if (Controller is null)
            throw new ArgumentException("Controller must be set to the controller's address (host:port).");
        if (HeartbeatInterval <= TimeSpan.Zero || ReadLease <= HeartbeatInterval)
            throw new ArgumentException($"HeartbeatInterval ({HeartbeatInterval}) must be positive and shorter than ReadLease ({ReadLease}).");
        if (LogCompactionBytes < 4096)
            throw new ArgumentException($"LogCompactionBytes must be at least 4096 (got {LogCompactionBytes}).");
        if (FaultDropProbability is < 0 or >= 1)
            throw new ArgumentException($"FaultDropProbability must be in [0, 1) (got {FaultDropProbability}).");
        if (FaultMaxDelay < TimeSpan.Zero)
            throw new ArgumentException($"FaultMaxDelay must not be negative (got {FaultMaxDelay}).");
    }
}
