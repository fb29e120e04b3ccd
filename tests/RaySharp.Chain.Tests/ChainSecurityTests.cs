using System.Buffers.Binary;
using System.Net.Sockets;
using RaySharp.Chain.Client;
using RaySharp.Chain.Controller;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;
using RaySharp.Security;
using RaySharp.Security.Tests;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

/// <summary>Issue 14: with a cluster token (and TLS) configured, every connection proves it before its first frame.</summary>
public sealed class ChainSecurityTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "raysharp-chain-security-" + Guid.NewGuid().ToString("N"));
    private readonly TestCertificates _certificates = new();

    public void Dispose()
    {
        _certificates.Dispose();
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task With_a_token_file_a_multi_process_cluster_serves_holders_and_refuses_clients_without_it_or_with_another()
    {
        var tokenFile = Path.Combine(_folder, "token");
        var token = ClusterToken.CreateFile(tokenFile);
        string[] secured = ["--token-file", tokenFile];
        await using var cluster = await StartWithControllerArgsAsync(3, 3, secured, serverArgs: secured);
        await using var chain = await ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = cluster.Controller,
            Token = token,
            OperationTimeout = TimeSpan.FromSeconds(30),
            AttemptTimeout = TimeSpan.FromSeconds(6),
        });
        await WaitFullyReplicatedAsync(chain, cluster);
        await chain.PutAsync("secured", Bytes("v1"));

        var wrong = await Assert.ThrowsAsync<ChainAuthenticationException>(() => ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = cluster.Controller,
            Token = ClusterToken.Generate(),
        }));
        Assert.Contains("different token", wrong.Message, StringComparison.Ordinal);
        await Assert.ThrowsAnyAsync<ChainException>(() => ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = cluster.Controller,
            OperationTimeout = TimeSpan.FromSeconds(2),
        }));

        // A stranger's raw frames to a server (a write, then the issue's spoofed Hello) get no answer and change nothing.
        var view = await chain.GetClusterViewAsync();
        var head = view.Chains[Placement.GroupOf("secured", view.Chains.Count)][0];
        using (var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await stranger.ConnectAsync(cluster.ServerEndPoint(head));
            var put = new FrameBuilder(OpCode.Put, 1).Key("secured").Bytes(Bytes("stranger")).Build();
            await stranger.SendAsync(put.Buffer.AsMemory(0, put.Length), SocketFlags.None);
            put.Return();
            Assert.Equal(0, await ReceiveOrResetAsync(stranger)); // closed without a reply
        }
        Assert.Equal("v1", Text((await chain.GetAsync("secured")).Value));
        Assert.Equal(2, await chain.PutAsync("secured", Bytes("v2")));
    }

    /// <summary>Bytes received before the connection closed (a reset counts as closed: the server did not read
    /// everything the stranger sent before closing).</summary>
    private static async Task<int> ReceiveOrResetAsync(Socket socket)
    {
        var buffer = new byte[256];
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return 0;
        }
    }

    [Fact]
    public async Task A_token_holder_cannot_claim_to_be_a_server_it_did_not_prove_to_be()
    {
        var token = ClusterToken.Generate();
        await using var controller = await ChainController.StartAsync(new ChainControllerOptions { Replicas = 2, GroupCount = 4, Token = token });
        await using var s0 = await ChainServer.StartAsync(new ChainServerOptions { ServerId = 0, Controller = controller.EndPoint, Token = token });
        await using var s1 = await ChainServer.StartAsync(new ChainServerOptions { ServerId = 1, Controller = controller.EndPoint, Token = token });
        await using var chain = await ChainClient.ConnectAsync(new ChainClientOptions { Controller = controller.EndPoint, Token = token });
        await WaitForViewAsync(chain, v => v.Chains.All(c => c.Count == 2), "both servers in every chain");

        // Authenticated as a client, then a Hello claiming server 0: refused and closed.
        var security = new ConnectionSecurity(token, null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await using var impostor = await FramedConnection.ConnectAsync(s1.EndPoint, TimeSpan.FromSeconds(10), CancellationToken.None, security, "client");
        var errors = System.Threading.Channels.Channel.CreateUnbounded<Frame>();
        impostor.Start((_, frame) =>
        {
            errors.Writer.TryWrite(frame);
            return ValueTask.CompletedTask;
        });
        impostor.Send(new FrameBuilder(OpCode.Hello, 0).I32(0).Build());
        await impostor.Closed.WaitAsync(TimeSpan.FromSeconds(30));

        for (var i = 0; i < 8; i++)
            Assert.Equal(1, await chain.PutAsync($"k{i}", Bytes("v")));
    }

    [Fact]
    public async Task With_mutual_tls_a_client_needs_a_certificate_from_the_cluster_ca()
    {
        TlsOptions Member(string name)
        {
            var (certificate, key) = _certificates.Issue(name);
            return new TlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = _certificates.CaPath };
        }
        var token = ClusterToken.Generate();
        await using var controller = await ChainController.StartAsync(new ChainControllerOptions { Replicas = 2, GroupCount = 4, Token = token, Tls = Member("controller") });
        await using var s0 = await ChainServer.StartAsync(new ChainServerOptions { ServerId = 0, Controller = controller.EndPoint, Token = token, Tls = Member("server-0") });
        await using var s1 = await ChainServer.StartAsync(new ChainServerOptions { ServerId = 1, Controller = controller.EndPoint, Token = token, Tls = Member("server-1") });
        await using var chain = await ChainClient.ConnectAsync(new ChainClientOptions { Controller = controller.EndPoint, Token = token, Tls = Member("client") });
        await WaitForViewAsync(chain, v => v.Chains.All(c => c.Count == 2), "both servers in every chain, over TLS");
        await chain.PutAsync("over-tls", Bytes("yes"));
        Assert.Equal("yes", Text((await chain.GetAsync("over-tls")).Value));

        await Assert.ThrowsAnyAsync<ChainException>(() => ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = controller.EndPoint,
            Token = token,
            Tls = new TlsOptions { CaPath = _certificates.CaPath }, // no certificate of its own
            OperationTimeout = TimeSpan.FromSeconds(2),
        }));
        using var strangers = new TestCertificates("Another CA");
        var (foreign, foreignKey) = strangers.Issue("intruder");
        await Assert.ThrowsAnyAsync<ChainException>(() => ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = controller.EndPoint,
            Token = token,
            Tls = new TlsOptions { CertificatePath = foreign, KeyPath = foreignKey, CaPath = _certificates.CaPath },
            OperationTimeout = TimeSpan.FromSeconds(2),
        }));
        Assert.Equal("yes", Text((await chain.GetAsync("over-tls")).Value));
    }
}
