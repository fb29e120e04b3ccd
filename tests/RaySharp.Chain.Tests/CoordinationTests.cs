using System.Diagnostics;
using RaySharp.Chain.Client;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

public sealed class CoordinationTests
{
    [Fact]
    public async Task A_prefix_watch_sees_every_committed_change_in_order_across_a_tail_failure()
    {
        await using var cluster = await StartAsync(servers: 4);
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new Dictionary<string, List<long>>();
        var compacted = 0;
        var registered = new TaskCompletionSource();
        const int Writes = 150;
        await chain.PutAsync("w/a", Bytes("a0"));
        await chain.PutAsync("w/b", Bytes("b0"));
        var watching = Task.Run(async () =>
        {
            await foreach (var e in chain.WatchAsync("w/", prefix: true, stop.Token))
            {
                if (e.Compacted)
                    compacted++;
                if (!seen.TryGetValue(e.Key, out var versions))
                    seen[e.Key] = versions = [];
                versions.Add(e.Version);
                if (seen.Count == 2 && seen.Values.All(v => v.Count == 1))
                    registered.TrySetResult(); // both tails have sent the initial state: the watch is in place
                if (seen.Count == 2 && seen.Values.All(v => v[^1] == Writes + 1))
                    return;
            }
        });
        await registered.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var view = await chain.GetClusterViewAsync();
        var tailOfA = view.Chains[Placement.GroupOf("w/a", view.Chains.Count)][^1];
        for (var i = 1; i <= Writes; i++)
        {
            await chain.PutAsync("w/a", Bytes($"a{i}"));
            await chain.PutAsync("w/b", Bytes($"b{i}"));
            if (i == Writes / 2)
                cluster.KillServer(tailOfA);
        }
        await watching.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, compacted);
        foreach (var key in new[] { "w/a", "w/b" })
            Assert.Equal(Enumerable.Range(1, Writes + 1).Select(v => (long)v), seen[key]);
    }

    [Fact]
    public async Task Locks_are_first_come_first_served_with_growing_fencing_tokens_and_freed_when_a_holder_lease_expires()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        await using var leaseA = await chain.GrantLeaseAsync(TimeSpan.FromSeconds(5));
        await using var leaseB = await chain.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await using var leaseC = await chain.GrantLeaseAsync(TimeSpan.FromSeconds(5));

        var a = await chain.AcquireLockAsync("locks/x", leaseA);
        var b = chain.AcquireLockAsync("locks/x", leaseB);
        await WaitQueuedAsync(chain, leaseB); // B queues before C
        var c = chain.AcquireLockAsync("locks/x", leaseC);
        await WaitQueuedAsync(chain, leaseC);
        Assert.False(b.IsCompleted, "B got the lock while A held it");

        await a.DisposeAsync();
        var bLock = await b.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(bLock.FencingToken > a.FencingToken, $"B's token {bLock.FencingToken} is not above A's {a.FencingToken}");
        Assert.False(c.IsCompleted, "C overtook B");

        await leaseB.StopRenewingAsync(); // B's client "crashes": its lease expires and releases the lock
        var cLock = await c.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(cLock.FencingToken > bLock.FencingToken, $"C's token {cLock.FencingToken} is not above B's {bLock.FencingToken}");
        await cLock.DisposeAsync();
    }

    private static async Task WaitQueuedAsync(ChainClient chain, ChainLease lease)
    {
        var clock = Stopwatch.StartNew();
        while (!Server.Coordination.ParseQueue((await chain.GetAsync("locks/x")).Value).Contains(lease.Id))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"lease {lease.Id:x16} did not join the queue of locks/x within 10 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Keys_put_with_a_lease_are_deleted_when_the_lease_expires()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        await using var lease = await chain.GrantLeaseAsync(TimeSpan.FromSeconds(2));
        await chain.PutAsync("members/n1", Bytes("alive"), lease);
        await chain.PutAsync("members/n2", Bytes("kept"));
        await Task.Delay(2500);
        Assert.Equal("alive", Text((await chain.GetAsync("members/n1")).Value)); // renewed in the background

        await lease.StopRenewingAsync();
        var clock = Stopwatch.StartNew();
        while ((await chain.GetAsync("members/n1")).Exists)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "members/n1 was not deleted within 10 s of its lease's expiry");
            await Task.Delay(20);
        }
        Assert.Equal("kept", Text((await chain.GetAsync("members/n2")).Value));
        await Assert.ThrowsAsync<ChainLeaseExpiredException>(() => chain.PutAsync("members/n3", Bytes("late"), lease));
    }

    [Fact]
    public async Task A_lease_that_expires_while_its_lock_is_being_acquired_leaves_no_orphan_in_the_queue()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        await using var doomed = await chain.GrantLeaseAsync(TimeSpan.FromMilliseconds(300));
        chain.BetweenLockStepsForTests = async lease =>
        {
            // The acquiring process stalls between its steps until its lease has expired and been cleaned
            // up: a key put with the lease now is deleted after everything attached before it.
            await chain.PutAsync("orphan-marker", Bytes("x"), lease);
            await lease.StopRenewingAsync();
            var clock = Stopwatch.StartNew();
            while ((await chain.GetAsync("orphan-marker")).Value is not null)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "Timed out after 30 s waiting for the stalled lease to expire.");
                await Task.Delay(20);
            }
        };
        try
        {
            await chain.AcquireLockAsync("orphan-lock", doomed);
        }
        catch (ChainLeaseExpiredException)
        {
            // the right outcome for the stalled acquirer
        }
        chain.BetweenLockStepsForTests = null;

        await using var other = await ClientAsync(cluster);
        await using var lease = await other.GrantLeaseAsync(TimeSpan.FromSeconds(5));
        var acquiring = other.AcquireLockAsync("orphan-lock", lease);
        var winner = await Task.WhenAny(acquiring, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.True(winner == acquiring, "Timed out after 30 s waiting for a live lease to get a lock whose previous acquirer's lease expired mid-acquire (an orphaned queue entry blocks it).");
        await using var held = await acquiring;
    }
}
