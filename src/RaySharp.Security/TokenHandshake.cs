using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;

namespace RaySharp.Security;

/// <summary>
/// Mutual challenge-response over a fresh stream, before anything else is read or written on it: each side proves it
/// holds the <see cref="ClusterToken"/> without sending it, and the client names who it is (an identity string
/// bound into both proofs).
/// </summary>
/// <remarks>
/// <para>Messages, in order (all fixed size but the identity):</para>
/// <list type="number">
/// <item>client → server: <c>"RSH1"</c>, 32-byte nonce N<sub>c</sub>, u8 identity length, identity (UTF-8).</item>
/// <item>server → client: <c>"RSH1"</c>, 32-byte nonce N<sub>s</sub>, server proof
/// HMAC-SHA256(token, "raysharp-handshake-v1 server" | N<sub>c</sub> | N<sub>s</sub> | identity).</item>
/// <item>client → server (only if the server's proof is right): client proof, the same HMAC with role "client".</item>
/// <item>server → client: one byte, 1 = accepted; a refused client gets 0 and the server closes.</item>
/// </list>
/// <para>Fresh nonces from both sides make every transcript different, so a recorded handshake cannot be replayed;
/// the role in each HMAC keeps one side's proof from being reflected back as the other's; proofs are compared with
/// <see cref="CryptographicOperations.FixedTimeEquals"/>. The client checks the server first, so a stranger posing as
/// a server learns no client proof. The handshake authenticates the peer, not the bytes that follow: on a network
/// where others can inject or read traffic, run it inside TLS (<see cref="TlsOptions"/>).</para>
/// </remarks>
public static class TokenHandshake
{
    /// <summary>Longest identity, in UTF-8 bytes.</summary>
    public const int MaxIdentityBytes = 255;

    private const int NonceBytes = 32;
    private const int ProofBytes = 32;
    private static readonly byte[] Magic = "RSH1"u8.ToArray();
    private static readonly byte[] ServerRole = "raysharp-handshake-v1 server"u8.ToArray();
    private static readonly byte[] ClientRole = "raysharp-handshake-v1 client"u8.ToArray();

    /// <summary>
    /// The connecting side: proves <paramref name="token"/> to the server as <paramref name="identity"/> and checks that
    /// the server holds the same token. Throws <see cref="AuthenticationException"/> when either proof fails, with a
    /// message that says which side refused; <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// </summary>
    public static async Task AuthenticateAsClientAsync(Stream stream, ClusterToken token, string identity, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(identity);
        var id = Encoding.UTF8.GetBytes(identity);
        if (id.Length > MaxIdentityBytes)
            throw new ArgumentException($"An identity is at most {MaxIdentityBytes} UTF-8 bytes (got {id.Length}).", nameof(identity));
        using var limit = Limit(timeout, cancellationToken);
        try
        {
            var clientNonce = RandomNumberGenerator.GetBytes(NonceBytes);
            var hello = new byte[Magic.Length + NonceBytes + 1 + id.Length];
            Magic.CopyTo(hello, 0);
            clientNonce.CopyTo(hello, Magic.Length);
            hello[Magic.Length + NonceBytes] = (byte)id.Length;
            id.CopyTo(hello, Magic.Length + NonceBytes + 1);
            await stream.WriteAsync(hello, limit.Token).ConfigureAwait(false);
            await stream.FlushAsync(limit.Token).ConfigureAwait(false);

            var answer = new byte[Magic.Length + NonceBytes + ProofBytes];
            if (!await ReadExactlyOrEndAsync(stream, answer, limit.Token).ConfigureAwait(false))
                throw new AuthenticationException("The server closed the connection during the token handshake: it refused the connection or does not require a cluster token (check that both sides are given the same token file).");
            if (!answer.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new AuthenticationException("The server did not answer the token handshake (it may not require a cluster token, or it is not a RaySharp server): give both sides the same token file.");
            var serverNonce = answer.AsSpan(Magic.Length, NonceBytes).ToArray();
            var expected = Proof(token, ServerRole, clientNonce, serverNonce, id);
            if (!CryptographicOperations.FixedTimeEquals(expected, answer.AsSpan(Magic.Length + NonceBytes, ProofBytes)))
                throw new AuthenticationException("The server's proof of the cluster token is wrong: it holds a different token. Refusing to talk to it; give both sides the same token file.");
            await stream.WriteAsync(Proof(token, ClientRole, clientNonce, serverNonce, id), limit.Token).ConfigureAwait(false);
            await stream.FlushAsync(limit.Token).ConfigureAwait(false);
            var verdict = new byte[1];
            if (!await ReadExactlyOrEndAsync(stream, verdict, limit.Token).ConfigureAwait(false) || verdict[0] != 1)
                throw new AuthenticationException("The server refused this process's proof of the cluster token.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The token handshake did not complete within {timeout.TotalSeconds:0.##} s.");
        }
    }

    /// <summary>
    /// The accepting side: checks the client's proof of <paramref name="token"/> and returns the identity it named.
    /// Reads nothing past the handshake. Throws <see cref="AuthenticationException"/> when the client does not
    /// prove the token (after telling it so); <see cref="TimeoutException"/> after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<string> AuthenticateAsServerAsync(Stream stream, ClusterToken token, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(token);
        using var limit = Limit(timeout, cancellationToken);
        try
        {
            var head = new byte[Magic.Length + NonceBytes + 1];
            // The magic first, alone: a peer that speaks anything else is refused at its first bytes.
            if (!await ReadExactlyOrEndAsync(stream, head.AsMemory(0, Magic.Length), limit.Token).ConfigureAwait(false))
                throw new AuthenticationException("The peer closed the connection before completing the token handshake.");
            if (!head.AsSpan(0, Magic.Length).SequenceEqual(Magic))
                throw new AuthenticationException("The peer sent something other than a token handshake (a client without the cluster token, or not a RaySharp client).");
            if (!await ReadExactlyOrEndAsync(stream, head.AsMemory(Magic.Length), limit.Token).ConfigureAwait(false))
                throw new AuthenticationException("The peer closed the connection before completing the token handshake.");
            var clientNonce = head.AsSpan(Magic.Length, NonceBytes).ToArray();
            var id = new byte[head[^1]];
            if (!await ReadExactlyOrEndAsync(stream, id, limit.Token).ConfigureAwait(false))
                throw new AuthenticationException("The peer closed the connection during the token handshake.");
            string identity;
            try
            {
                identity = StrictUtf8.GetString(id);
            }
            catch (DecoderFallbackException)
            {
                throw new AuthenticationException("The peer's identity in the token handshake is not valid UTF-8.");
            }
            var serverNonce = RandomNumberGenerator.GetBytes(NonceBytes);
            var answer = new byte[Magic.Length + NonceBytes + ProofBytes];
            Magic.CopyTo(answer, 0);
            serverNonce.CopyTo(answer, Magic.Length);
            Proof(token, ServerRole, clientNonce, serverNonce, id).CopyTo(answer, Magic.Length + NonceBytes);
            await stream.WriteAsync(answer, limit.Token).ConfigureAwait(false);
            await stream.FlushAsync(limit.Token).ConfigureAwait(false);

            var proof = new byte[ProofBytes];
            if (!await ReadExactlyOrEndAsync(stream, proof, limit.Token).ConfigureAwait(false))
                throw new AuthenticationException($"The peer (claiming '{identity}') closed the connection instead of proving the cluster token (it holds a different token).");
            var expected = Proof(token, ClientRole, clientNonce, serverNonce, id);
            var accepted = CryptographicOperations.FixedTimeEquals(expected, proof);
            await stream.WriteAsync(new[] { accepted ? (byte)1 : (byte)0 }, limit.Token).ConfigureAwait(false);
            await stream.FlushAsync(limit.Token).ConfigureAwait(false);
            if (!accepted)
                throw new AuthenticationException($"The peer (claiming '{identity}') sent a wrong proof of the cluster token.");
            return identity;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The peer did not complete the token handshake within {timeout.TotalSeconds:0.##} s.");
        }
        catch (IOException e)
        {
            throw new AuthenticationException($"The connection failed during the token handshake: {e.Message}", e);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    private static byte[] Proof(ClusterToken token, byte[] role, byte[] clientNonce, byte[] serverNonce, byte[] identity)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, token.Secret);
        hmac.AppendData(role);
        hmac.AppendData(clientNonce);
        hmac.AppendData(serverNonce);
        hmac.AppendData([(byte)identity.Length]);
        hmac.AppendData(identity);
        return hmac.GetHashAndReset();
    }

    private static CancellationTokenSource Limit(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        return limit;
    }

    /// <summary>Fills <paramref name="buffer"/>; false when the stream ended first.</summary>
    private static Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken) =>
        ReadExactlyOrEndAsync(stream, buffer.AsMemory(), cancellationToken);

    /// <summary>Fills <paramref name="buffer"/>; false when the stream ended first.</summary>
    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer[read..], cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return false;
            read += n;
        }
        return true;
    }
}
