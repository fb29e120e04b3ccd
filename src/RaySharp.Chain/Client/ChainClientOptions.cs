using System.Net;
using RaySharp.Security;

namespace RaySharp.Chain.Client;

/// <summary>Settings of a <see cref="ChainClient"/>. Every default is documented and checked by <see cref="Validate"/>.</summary>
public sealed class ChainClientOptions
{
    /// <summary>The controller's address (where the client learns the chains). Required.</summary>
    public IPEndPoint? Controller { get; set; }

    /// <summary>How long one operation may take in all, retries included (default 5 s).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one attempt waits for its reply (default 1 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The cluster token the servers and controller require (docs/security.md). Null (default): none sent.</summary>
    public ClusterToken? Token { get; set; }

    /// <summary>TLS to the servers and the controller: with a CA, their certificates must be issued by it, and this
    /// client presents its own certificate (required then). Null (default): plain TCP.</summary>
    public TlsOptions? Tls { get; set; }

    /// <summary>Deliberately unsafe, for the checker's negative test: read from a random replica instead of the tail.</summary>
    internal bool UnsafeReadFromAnyReplica { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        Tls?.Validate(server: false);
        if (Controller is null)
            throw new ArgumentException("Controller must be set to the controller's address (host:port).");
        if (AttemptTimeout <= TimeSpan.Zero || OperationTimeout < AttemptTimeout)
            throw new ArgumentException($"AttemptTimeout ({AttemptTimeout}) must be positive and at most OperationTimeout ({OperationTimeout}).");
    }
}

/// <summary>A key's value and version. Version is the key's per-key sequence number: 0 if never written; a
/// deleted key keeps counting (its <see cref="Value"/> is null).</summary>
/// <param name="Value">The value, or null when the key does not exist.</param>
/// <param name="Version">The key's version, incremented by every put, delete and successful compare-and-swap.</param>
public readonly record struct ChainEntry(byte[]? Value, long Version)
{
    /// <summary>True when the key currently has a value.</summary>
    public bool Exists => Value is not null;
}

/// <summary>The outcome of a compare-and-swap or delete.</summary>
/// <param name="Succeeded">CAS: the expected version matched and the value was written. Delete: the key existed.</param>
/// <param name="Version">CAS: the new version on success, else the current version. Delete: the new version.</param>
public readonly record struct ChainWriteResult(bool Succeeded, long Version);
