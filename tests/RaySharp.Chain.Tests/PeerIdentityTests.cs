using System.Buffers.Binary;
using System.Net.Sockets;
using RaySharp.Chain.Protocol;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

/// <summary>Issue 14: frames from a stranger must not change which connection a server believes is its predecessor.</summary>
public sealed class PeerIdentityTests
{
    [Fact]
    public async Task A_spoofed_hello_claiming_the_predecessor_does_not_take_its_acknowledgements_even_without_a_token()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);
        var view = await WaitFullyReplicatedAsync(chain, cluster);
        var groups = view.Chains.Count;
        // A write in every group: every predecessor's link to its successor is up.
        var keys = Enumerable.Range(0, groups).Select(g => KeyInGroup("spoof/", g, groups)).ToList();
        foreach (var key in keys)
            await chain.PutAsync(key, Bytes("before"));

        // The repro: a 17-byte Hello that claims to be X, sent to X's successor S, then closed.
        var x = view.Chains[0][0];
        var s = view.Chains[0][1];
        using (var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await stranger.ConnectAsync(cluster.ServerEndPoint(s));
            var hello = new byte[17];
            BinaryPrimitives.WriteInt32LittleEndian(hello, 13);
            hello[4] = (byte)OpCode.Hello;
            BinaryPrimitives.WriteInt32LittleEndian(hello.AsSpan(13), x);
            await stranger.SendAsync(hello, SocketFlags.None);
            // A frame after it, answered in order: once its reply is back, the Hello has been handled.
            var probe = new byte[13];
            BinaryPrimitives.WriteInt32LittleEndian(probe, 9);
            probe[4] = (byte)OpCode.GetConfig;
            BinaryPrimitives.WriteUInt64LittleEndian(probe.AsSpan(5), 1);
            await stranger.SendAsync(probe, SocketFlags.None);
            var reply = new byte[4];
            await stranger.ReceiveAsync(reply, SocketFlags.None);
        }

        // Every write through X → S must still commit (today they all time out as indeterminate).
        foreach (var key in keys)
            Assert.Equal(2, await chain.PutAsync(key, Bytes("after")));
    }

    /// <summary>The first key <paramref name="prefix"/>N that hashes to group <paramref name="g"/>.</summary>
    internal static string KeyInGroup(string prefix, int g, int groups) =>
        Enumerable.Range(0, 10_000).Select(i => $"{prefix}{i}").First(k => Placement.GroupOf(k, groups) == g);
}
