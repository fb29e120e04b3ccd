namespace RaySharp.Chain.Client;

/// <summary>Base of every error the chain client reports.</summary>
public class ChainException : Exception
{
    /// <summary>Creates the exception with a message saying what happened and what to do.</summary>
    public ChainException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}

/// <summary>No server could complete the operation before the operation timeout; nothing was changed by it
/// (reads) or — for writes — see <see cref="ChainIndeterminateException"/>. Retry later.</summary>
public sealed class ChainUnavailableException(string message, Exception? inner = null) : ChainException(message, inner);

/// <summary>
/// A write was sent but its reply was lost (the head failed or the connection dropped): it may or may not
/// have been applied. Read the key to find out before retrying a non-idempotent write.
/// </summary>
public sealed class ChainIndeterminateException(string message, Exception? inner = null) : ChainException(message, inner);

/// <summary>The controller or a server refused this client's cluster token or TLS certificate, or proved a different
/// token: retrying will not help; give the client the cluster's token and TLS settings (docs/security.md).</summary>
public sealed class ChainAuthenticationException(string message, Exception? inner = null) : ChainException(message, inner);

/// <summary>A server rejected the request itself (malformed, too large, unknown operation): fix the request.</summary>
public sealed class ChainRequestException(string message) : ChainException(message);
