using System.Net;
using RaySharp.Chain.Client;
using RaySharp.Chain.Hosting;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

/// <summary>Issue 14: a server checks what arrives on the wire itself, not only what its own client would send.</summary>
public sealed class ServerValidationTests
{
    [Fact]
    public async Task A_raw_put_of_a_malformed_lease_key_is_refused_and_leases_still_expire_after_a_failover()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);
        var view = await WaitFullyReplicatedAsync(chain, cluster);
        var groups = view.Chains.Count;
        const string Bad = Coordination.LeasePrefix + "not-hex";
        var g = Placement.GroupOf(Bad, groups);
        var head = view.Chains[g][0];

        var reply = await RawWriteAsync(cluster.ServerEndPoint(head), OpCode.Put, Bad, Coordination.LeaseRecord(10, []));
        Assert.Equal(OpCode.Error, reply.Op);

        // A lease in the same group, with an ephemeral key: after the head dies, the new head must expire it.
        var lease = await GrantLeaseInGroupAsync(chain, g, groups);
        await chain.PutAsync("ephemeral/a", Bytes("x"), lease);
        cluster.KillServer(head);
        await WaitForAsync(async () => !(await chain.GetAsync("ephemeral/a")).Exists, lease, "the new head to expire the lease and delete its key");
    }

    [Fact]
    public async Task A_raw_put_of_an_empty_lease_record_is_refused_and_a_failover_still_moves_every_group()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);
        var view = await WaitFullyReplicatedAsync(chain, cluster);
        var groups = view.Chains.Count;
        const string Bad = Coordination.LeasePrefix + "zz";
        var g = Placement.GroupOf(Bad, groups);
        var head = view.Chains[g][0];

        var reply = await RawWriteAsync(cluster.ServerEndPoint(head), OpCode.Put, Bad, []);
        Assert.Equal(OpCode.Error, reply.Op);

        cluster.KillServer(head);
        await WaitForViewAsync(chain, v => v.Chains.All(c => !c.Contains(head)), $"server {head} to be cut out of every chain");
        // Every group takes writes again: each new head adopted the configuration's role changes.
        for (var group = 0; group < groups; group++)
            Assert.True(await chain.PutAsync(PeerIdentityTests.KeyInGroup("after/", group, groups), Bytes("ok")) > 0);
    }

    [Theory]
    [InlineData((byte)OpCode.Put, "")]
    [InlineData((byte)OpCode.Delete, "")]
    [InlineData((byte)OpCode.Put, "\0lock/x")]
    [InlineData((byte)OpCode.Delete, Coordination.LeasePrefix + "0000000000000001")]
    public async Task A_server_refuses_empty_and_reserved_keys_from_the_wire(byte code, string key)
    {
        var op = (OpCode)code;
        await using var cluster = await StartAsync(servers: 1, replicas: 1);
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        var reply = await RawWriteAsync(cluster.ServerEndPoint(0), op, key, op == OpCode.Put ? Bytes("v") : null);
        Assert.Equal(OpCode.Error, reply.Op);
        var reader = reply.Reader();
        Assert.Equal((byte)ErrorCode.Malformed, reader.U8());
        Assert.Contains("reserved", reader.Text(), StringComparison.Ordinal);
    }

    private static async Task<Frame> RawWriteAsync(IPEndPoint server, OpCode op, string key, byte[]? value)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var connection = await FramedConnection.ConnectAsync(server, TimeSpan.FromSeconds(10), timeout.Token);
        connection.Start((_, _) => ValueTask.CompletedTask);
        var id = connection.NextRequestId();
        var frame = new FrameBuilder(op, id).Key(key);
        if (value is not null)
            frame.Bytes(value);
        return await connection.RequestAsync(id, frame.Build(), TimeSpan.FromSeconds(20), timeout.Token);
    }

    /// <summary>Grants leases until one's record lives in group <paramref name="g"/>; revokes the others.</summary>
    private static async Task<ChainLease> GrantLeaseInGroupAsync(ChainClient chain, int g, int groups)
    {
        while (true)
        {
            var lease = await chain.GrantLeaseAsync(TimeSpan.FromMilliseconds(300));
            if (Placement.GroupOf(Coordination.LeaseKey(lease.Id), groups) == g)
                return lease;
            await lease.DisposeAsync();
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, ChainLease lease, string what)
    {
        // Stop renewing: the lease lives on only while its head's expiry loop is stuck.
        await lease.StopRenewingAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
                throw new TimeoutException($"Timed out after 30 s waiting for {what}.");
            await Task.Delay(50);
        }
    }
}
