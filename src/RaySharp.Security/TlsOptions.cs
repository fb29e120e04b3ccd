using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace RaySharp.Security;

/// <summary>
/// TLS for a connection, from PEM files: this process's certificate and private key, and optionally the
/// certificate authority (CA) the cluster's certificates are issued by. With a CA, authentication is mutual: a
/// server asks every client for a certificate and accepts only one the CA issued, and a client accepts only a
/// server certificate the CA issued (any name: the CA is the cluster's own, so what it signed is a member). Without
/// a CA a client checks the server's certificate against the system's trusted roots and the host name, and the
/// server asks for no client certificate. Every setting is checked by <see cref="Validate"/>; files are read once.
/// </summary>
/// <example>
/// <code>
/// var tls = new TlsOptions { CertificatePath = "node.pem", KeyPath = "node.key", CaPath = "ca.pem" };
/// await using var secure = await tls.AuthenticateAsClientAsync(networkStream, "10.0.0.5", cancellationToken);
/// </code>
/// </example>
public sealed class TlsOptions
{
    private readonly Lock _gate = new();
    private Loaded? _loaded;

    /// <summary>This process's certificate (PEM). Required to accept connections, and to connect to a server that has a CA.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The private key of <see cref="CertificatePath"/> (PEM, unencrypted). Required with it.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The cluster's certificate authority (PEM, one or more certificates); null (default): no client
    /// certificates are asked for, and servers are checked against the system's roots.</summary>
    public string? CaPath { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first missing or unreadable setting. With
    /// <paramref name="server"/>, a certificate and key are required.</summary>
    public void Validate(bool server)
    {
        if ((CertificatePath is null) != (KeyPath is null))
            throw new ArgumentException("TLS needs both a certificate and its private key (--tls-cert and --tls-key), or neither.");
        if (server && CertificatePath is null)
            throw new ArgumentException("A process that accepts TLS connections needs a certificate and key (--tls-cert and --tls-key).");
        foreach (var (path, what) in new[] { (CertificatePath, "certificate"), (KeyPath, "private key"), (CaPath, "CA certificate") })
        {
            if (path is not null && !File.Exists(path))
                throw new ArgumentException($"The TLS {what} file {path} does not exist.");
        }
        _ = Load();
    }

    /// <summary>Runs the server side of a TLS handshake on <paramref name="inner"/> and returns the encrypted stream
    /// (which owns <paramref name="inner"/>). Throws <see cref="AuthenticationException"/> when the client is refused.</summary>
    public async Task<SslStream> AuthenticateAsServerAsync(Stream inner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var loaded = Load();
        if (loaded.Context is null)
            throw new InvalidOperationException("A process that accepts TLS connections needs a certificate and key (--tls-cert and --tls-key).");
        return await HandshakeAsync(inner, stream => stream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificateContext = loaded.Context,
            ClientCertificateRequired = loaded.Authority is not null,
            RemoteCertificateValidationCallback = loaded.Authority is null ? null : (_, certificate, _, _) => IssuedByAuthority(loaded.Authority, certificate),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        }, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Runs the client side of a TLS handshake with the server named <paramref name="targetHost"/> and
    /// returns the encrypted stream (which owns <paramref name="inner"/>). Throws <see cref="AuthenticationException"/>
    /// when the server's certificate is not trusted.</summary>
    public async Task<SslStream> AuthenticateAsClientAsync(Stream inner, string targetHost, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var loaded = Load();
        return await HandshakeAsync(inner, stream => stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            ClientCertificateContext = loaded.Context,
            RemoteCertificateValidationCallback = loaded.Authority is null ? null : (_, certificate, _, _) => IssuedByAuthority(loaded.Authority, certificate),
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        }, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Wraps <paramref name="inner"/> in an <see cref="SslStream"/> that owns it and runs
    /// <paramref name="handshake"/> on it; a failed handshake disposes the stream (and the inner one).</summary>
    private static async Task<SslStream> HandshakeAsync(Stream inner, Func<SslStream, Task> handshake)
    {
        var stream = new SslStream(inner, leaveInnerStreamOpen: false);
        try
        {
            await handshake(stream).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool IssuedByAuthority(X509Certificate2Collection authority, X509Certificate? certificate)
    {
        if (certificate is not X509Certificate2 presented)
            return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(presented);
    }

    private Loaded Load()
    {
        lock (_gate)
        {
            if (_loaded is not null)
                return _loaded;
            SslStreamCertificateContext? context = null;
            X509Certificate2Collection? authority = null;
            try
            {
                if (CertificatePath is not null && KeyPath is not null)
                {
                    using var pem = X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
                    // Re-imported so the key is usable by the TLS stack on every platform.
                    var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
                    context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
                }
                if (CaPath is not null)
                {
                    authority = [];
                    authority.ImportFromPemFile(CaPath);
                    if (authority.Count == 0)
                        throw new ArgumentException($"The TLS CA file {CaPath} holds no PEM certificate.");
                }
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new ArgumentException($"Cannot load the TLS files (certificate {CertificatePath}, key {KeyPath}, CA {CaPath}): {e.Message}", e);
            }
            return _loaded = new Loaded(context, authority);
        }
    }

    private sealed record Loaded(SslStreamCertificateContext? Context, X509Certificate2Collection? Authority);
}
