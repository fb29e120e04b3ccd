using System.Security.Authentication;

namespace RaySharp.Security.Tests;

public sealed class TlsOptionsTests : IDisposable
{
    private readonly TestCertificates _cluster = new();
    private readonly TestCertificates _stranger = new("Another CA");

    public void Dispose()
    {
        _cluster.Dispose();
        _stranger.Dispose();
    }

    private TlsOptions Member(string name, TestCertificates issuer)
    {
        var (certificate, key) = issuer.Issue(name);
        return new TlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = _cluster.CaPath };
    }

    [Fact]
    public async Task Two_members_with_certificates_from_the_cluster_ca_talk_over_tls()
    {
        var server = Member("server", _cluster);
        var client = Member("client", _cluster);
        await using var pipe = await Loopback.OpenAsync();
        var accepting = server.AuthenticateAsServerAsync(pipe.Server);
        await using var clientStream = await client.AuthenticateAsClientAsync(pipe.Client, "127.0.0.1");
        await using var serverStream = await accepting;

        Assert.True(serverStream.IsMutuallyAuthenticated);
        await clientStream.WriteAsync("hello"u8.ToArray());
        var read = new byte[5];
        await serverStream.ReadExactlyAsync(read);
        Assert.Equal("hello"u8.ToArray(), read);
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_when_the_server_has_a_ca()
    {
        var server = Member("server", _cluster);
        var client = new TlsOptions { CaPath = _cluster.CaPath };
        await AssertRefusedAsync(server, client);
    }

    [Fact]
    public async Task A_client_with_a_certificate_from_another_ca_is_refused()
    {
        var server = Member("server", _cluster);
        var client = Member("intruder", _stranger);
        await AssertRefusedAsync(server, client);
    }

    [Fact]
    public async Task A_client_refuses_a_server_whose_certificate_another_ca_issued()
    {
        var (certificate, key) = _stranger.Issue("impostor");
        var server = new TlsOptions { CertificatePath = certificate, KeyPath = key };
        var client = Member("client", _cluster);
        await using var pipe = await Loopback.OpenAsync();
        var accepting = server.AuthenticateAsServerAsync(pipe.Server);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsClientAsync(pipe.Client, "127.0.0.1"));
        pipe.Client.Close();
        await Task.WhenAny(accepting); // the server may or may not finish first (TLS 1.3): only the client's refusal matters
    }

    [Fact]
    public void Missing_files_and_half_pairs_are_reported_before_any_connection()
    {
        Assert.Contains("does not exist", Assert.Throws<ArgumentException>(() =>
            new TlsOptions { CertificatePath = "/nonexistent.pem", KeyPath = "/nonexistent.key" }.Validate(server: true)).Message, StringComparison.Ordinal);
        Assert.Contains("both a certificate and its private key", Assert.Throws<ArgumentException>(() =>
            new TlsOptions { CertificatePath = _cluster.CaPath }.Validate(server: false)).Message, StringComparison.Ordinal);
        Assert.Contains("needs a certificate", Assert.Throws<ArgumentException>(() =>
            new TlsOptions { CaPath = _cluster.CaPath }.Validate(server: true)).Message, StringComparison.Ordinal);
    }

    /// <summary>The server refuses the client: its handshake fails, and the client cannot exchange data.</summary>
    private static async Task AssertRefusedAsync(TlsOptions server, TlsOptions client)
    {
        await using var pipe = await Loopback.OpenAsync();
        var accepting = server.AuthenticateAsServerAsync(pipe.Server);
        var clientFailed = false;
        try
        {
            await using var stream = await client.AuthenticateAsClientAsync(pipe.Client, "127.0.0.1");
            // With TLS 1.3 the client may finish before the server checks its certificate: the refusal shows on read.
            var one = new byte[1];
            await stream.WriteAsync(one);
            clientFailed = await stream.ReadAsync(one) == 0;
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            clientFailed = true;
        }
        await Assert.ThrowsAsync<AuthenticationException>(() => accepting);
        Assert.True(clientFailed, "the client exchanged data with a server that refused its certificate");
    }
}
