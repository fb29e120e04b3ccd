using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaySharp.Security;

namespace RaySharp.Chain.Protocol;

/// <summary>
/// What a process requires of every TCP connection it opens or accepts: the cluster token's handshake, TLS, both or
/// neither (docs/security.md). Runs right after connect or accept, before any frame: TLS first, then the token
/// handshake inside it. A connection that fails either is closed before anything else is read from it, and an
/// accepted one is logged (rate-limited) with the peer's address.
/// </summary>
internal sealed class ConnectionSecurity
{
    /// <summary>No token, no TLS: connections carry frames at once (the default).</summary>
    public static readonly ConnectionSecurity None = new(null, null, NullLogger.Instance);

    /// <summary>Handshakes not finished yet past which new connections are refused at once (a stranger opening
    /// connections it never completes must not hold unbounded memory).</summary>
    private const int MaxPendingHandshakes = 256;

    private int _pending;

    public ConnectionSecurity(ClusterToken? token, TlsOptions? tls, ILogger logger)
    {
        Token = token;
        Tls = tls;
        Refusals = new RefusalLog(logger);
    }

    public ClusterToken? Token { get; }

    public TlsOptions? Tls { get; }

    /// <summary>Connections refused, logged at most 10 a minute.</summary>
    public RefusalLog Refusals { get; }

    public bool Enabled => Token is not null || Tls is not null;

    /// <summary>How long a peer has to complete TLS and the token handshake (5 s).</summary>
    public static TimeSpan HandshakeTimeout { get; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The connecting side, on a connected socket: TLS (checking the server's certificate), then the token handshake
    /// as <paramref name="identity"/>. Returns the TLS stream to carry frames, or null without TLS (frames then go
    /// straight to the socket). Throws <see cref="HandshakeFailedException"/> when either fails.
    /// </summary>
    public async Task<Stream?> SecureClientAsync(Socket socket, IPEndPoint endPoint, string identity, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            if (Tls is not null)
                stream = await Tls.AuthenticateAsClientAsync(stream, endPoint.Address.ToString(), limit.Token).ConfigureAwait(false);
            if (Token is not null)
                await TokenHandshake.AuthenticateAsClientAsync(stream, Token, identity, timeout, limit.Token).ConfigureAwait(false);
            if (Tls is not null)
                return stream;
            await stream.DisposeAsync().ConfigureAwait(false); // does not own the socket
            return null;
        }
        catch (Exception e) when (e is AuthenticationException or TimeoutException ||
            (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            var refused = e is AuthenticationException;
            throw new HandshakeFailedException(refused
                ? $"Connection to {endPoint} refused during authentication: {e.Message}"
                : $"Connection to {endPoint} did not complete its TLS or token handshake within {timeout.TotalSeconds:0.##} s.", refused, e);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// The accepting side: TLS (asking for a client certificate when a CA is set), then the token handshake. Returns
    /// the stream for frames (null without TLS) and the identity the peer proved (null without a token); null when
    /// the peer was refused, after logging why and closing the socket.
    /// </summary>
    public async Task<(Stream? Stream, string? Identity)?> SecureServerAsync(Socket socket, CancellationToken cancellationToken)
    {
        var peer = socket.RemoteEndPoint;
        if (Interlocked.Increment(ref _pending) > MaxPendingHandshakes)
        {
            Interlocked.Decrement(ref _pending);
            Refusals.Refused(peer, $"more than {MaxPendingHandshakes} handshakes in progress");
            socket.Dispose();
            return null;
        }
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(HandshakeTimeout);
        try
        {
            if (Tls is not null)
                stream = await Tls.AuthenticateAsServerAsync(stream, limit.Token).ConfigureAwait(false);
            string? identity = null;
            if (Token is not null)
                identity = await TokenHandshake.AuthenticateAsServerAsync(stream, Token, HandshakeTimeout, limit.Token).ConfigureAwait(false);
            if (Tls is not null)
                return (stream, identity);
            await stream.DisposeAsync().ConfigureAwait(false); // does not own the socket
            return (null, identity);
        }
        catch (Exception e) when (e is AuthenticationException or IOException or TimeoutException or SocketException or OperationCanceledException)
        {
            if (!cancellationToken.IsCancellationRequested)
                Refusals.Refused(peer, e is OperationCanceledException ? $"no TLS or token handshake within {HandshakeTimeout.TotalSeconds:0} s" : e.Message);
            await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            return null;
        }
        finally
        {
            Interlocked.Decrement(ref _pending);
        }
    }
}

/// <summary>A connection was opened but its TLS or token handshake failed: <see cref="Refused"/> when a side
/// refused the other's proof or certificate (a configuration error: retrying will not help), else a timeout.</summary>
internal sealed class HandshakeFailedException(string message, bool refused, Exception inner) : IOException(message, inner)
{
    public bool Refused { get; } = refused;
}
