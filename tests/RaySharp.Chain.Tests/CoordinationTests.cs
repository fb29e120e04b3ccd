using System.Diagnostics;
using RaySharp.Chain.Client;
using RaySharp.Chain.Hosting;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;
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
    public async Task A_watch_resumed_at_a_tail_that_joined_by_snapshot_gets_every_version_it_missed()
    {
        await using var cluster = await StartAsync(servers: 4);
        await using var chain = await ClientAsync(cluster);
        var view = await WaitSettledAsync(chain, cluster);
        const string Key = "resume/a";
        var g = Placement.GroupOf(Key, view.Chains.Count);
        var neighbour = KeyInGroup("resume/b", g, view.Chains.Count);
        // Versions 1-5 of the key, one a delete (a tombstone), interleaved with another key of its group.
        await chain.PutAsync(Key, Bytes("v1"));
        await chain.PutAsync(neighbour, Bytes("n1"));
        await chain.PutAsync(Key, Bytes("v2"));
        await chain.DeleteAsync(Key);
        await chain.PutAsync(neighbour, Bytes("n2"));
        await chain.PutAsync(Key, Bytes("v4"));
        await chain.PutAsync(Key, Bytes("v5"));

        // The group's tail dies; the spare joins as the new tail from a snapshot.
        var spare = await ReplaceTailWithSpareAsync(cluster, chain, view, g);
        await chain.PutAsync(Key, Bytes("v6")); // after the switch-over: through the chain, no longer the feed

        // A watch that knew version 1 resumes at the joiner: it must get 2-6 in order, none flagged compacted.
        var events = await ResumeWatchAsync(cluster.ServerEndPoint(spare), g, Key, knownVersion: 1, untilVersion: 6);
        Assert.Equal(
            [(2L, "v2", 0), (3L, null, 0), (4L, "v4", 0), (5L, "v5", 0), (6L, "v6", 0)],
            events.Select(e => (e.Version, Text(e.Value), (int)e.Flags)));
    }

    [Fact]
    public async Task A_watch_resumed_at_a_joined_tail_beyond_the_snapshot_history_is_told_compacted()
    {
        await using var cluster = await StartAsync(servers: 4);
        await using var chain = await ClientAsync(cluster);
        var view = await WaitSettledAsync(chain, cluster);
        const string Key = "deep/a";
        var g = Placement.GroupOf(Key, view.Chains.Count);
        var versions = Coordination.SnapshotHistoryDepth + 44;
        for (var v = 1; v <= versions; v++)
            await chain.PutAsync(Key, Bytes("v" + v));

        var spare = await ReplaceTailWithSpareAsync(cluster, chain, view, g);

        // The joiner got the last SnapshotHistoryDepth changes: a watch that missed fewer resumes version by
        // version, one that missed more gets the current value flagged compacted (2), never a silent gap.
        var within = versions - 10;
        var replayed = await ResumeWatchAsync(cluster.ServerEndPoint(spare), g, Key, knownVersion: within, untilVersion: versions);
        Assert.Equal(Enumerable.Range(within + 1, 10).Select(v => ((long)v, (string?)("v" + v), 0)), replayed.Select(e => (e.Version, Text(e.Value), (int)e.Flags)));
        var beyond = await ResumeWatchAsync(cluster.ServerEndPoint(spare), g, Key, knownVersion: 1, untilVersion: versions);
        Assert.Equal([((long)versions, (string?)("v" + versions), 2)], beyond.Select(e => (e.Version, Text(e.Value), (int)e.Flags)));
    }

    [Fact]
    public async Task A_watch_resumed_at_a_joined_tail_after_values_of_the_largest_size_replays_within_the_history_byte_bound()
    {
        await using var cluster = await StartAsync(servers: 4);
        await using var chain = await ClientAsync(cluster);
        var view = await WaitSettledAsync(chain, cluster);
        const string Key = "large/a";
        var g = Placement.GroupOf(Key, view.Chains.Count);
        var neighbour = KeyInGroup("large/b", g, view.Chains.Count);
        // Versions of the largest size, each after an 8 KiB change of the same group: a SnapshotHistory frame holding
        // one of those must not take a large one as well, which would pass the frame limit. Together they take more
        // than HistoryBytes, so the tail keeps only the most recent of them.
        static byte[] Large(int version) => Enumerable.Repeat((byte)version, ChainLimits.MaxValueBytes).ToArray();
        var record = WatchHistory.RecordOverhead + Key.Length + ChainLimits.MaxValueBytes;
        var versions = Coordination.HistoryBytes / record + 2;
        for (var v = 1; v <= versions; v++)
        {
            await chain.PutAsync(neighbour, new byte[8 * 1024]);
            await chain.PutAsync(Key, Large(v));
        }

        var spare = await ReplaceTailWithSpareAsync(cluster, chain, view, g);

        var within = versions - 5;
        var replayed = await ResumeWatchAsync(cluster.ServerEndPoint(spare), g, Key, knownVersion: within, untilVersion: versions);
        Assert.Equal(Enumerable.Range(within + 1, 5).Select(v => ((long)v, 0)), replayed.Select(e => (e.Version, (int)e.Flags)));
        for (var i = 0; i < replayed.Count; i++)
            Assert.True(Large(within + 1 + i).AsSpan().SequenceEqual(replayed[i].Value), $"Version {replayed[i].Version} came back with a different value.");
        // Version 2's change was dropped at the tail (the byte bound), so it was never sent: the watch is told compacted.
        var beyond = await ResumeWatchAsync(cluster.ServerEndPoint(spare), g, Key, knownVersion: 1, untilVersion: versions);
        Assert.Equal([((long)versions, 2)], beyond.Select(e => (e.Version, (int)e.Flags)));
    }

    /// <summary>The first key <paramref name="prefix"/>N (N = 0, 1, …) that hashes to group <paramref name="g"/>.</summary>
    private static string KeyInGroup(string prefix, int g, int groups) =>
        Enumerable.Range(0, 1000).Select(i => $"{prefix}{i}").First(k => Placement.GroupOf(k, groups) == g);

    /// <summary>
    /// Kills group <paramref name="g"/>'s tail and waits until the one server outside the chain (four servers,
    /// f = 2) has joined it as the new tail, from a snapshot sent by the server that became tail at the failover.
    /// </summary>
    private static async Task<int> ReplaceTailWithSpareAsync(LocalChainCluster cluster, ChainClient chain, ChainClusterView view, int g)
    {
        var tail = view.Chains[g][^1];
        var spare = cluster.RunningServers.Single(s => !view.Chains[g].Contains(s));
        cluster.KillServer(tail);
        await WaitForViewAsync(chain, v => v.Joining[g] < 0 && v.Chains[g].Count == 3 && v.Chains[g][^1] == spare,
            $"server {spare} to join group {g} as its tail after server {tail} was killed");
        return spare;
    }

    /// <summary>
    /// Sends a resuming exact-key Watch straight to <paramref name="server"/> (the client API resumes only from
    /// what it delivered itself) and collects its events up to <paramref name="untilVersion"/>. A server not yet
    /// serving as the group's tail (not activated, no read lease) refuses; the watch is then sent again.
    /// </summary>
    private static async Task<List<(long Version, byte[]? Value, byte Flags)>> ResumeWatchAsync(System.Net.IPEndPoint server, int g, string key, long knownVersion, long untilVersion)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var connection = await FramedConnection.ConnectAsync(server, TimeSpan.FromSeconds(10), timeout.Token);
        var frames = System.Threading.Channels.Channel.CreateUnbounded<Frame>();
        connection.Start((_, frame) =>
        {
            frames.Writer.TryWrite(frame);
            return ValueTask.CompletedTask;
        });
        var events = new List<(long, byte[]?, byte)>();
        var refusals = new List<string>();
        try
        {
            while (true)
            {
                var id = connection.NextRequestId();
                connection.Send(new FrameBuilder(OpCode.Watch, id).U16((ushort)g).U8(2).Key(key).I32(1).Key(key).I64(knownVersion).Build());
                while (true)
                {
                    var frame = await frames.Reader.ReadAsync(timeout.Token);
                    var reader = frame.Reader();
                    if (frame.Op == OpCode.Error)
                    {
                        reader.U8();
                        refusals.Add(reader.Text());
                        break;
                    }
                    Assert.Equal(OpCode.WatchEvent, frame.Op);
                    Assert.Equal(key, reader.Key());
                    var version = reader.I64();
                    var kind = reader.U8();
                    var flags = reader.U8();
                    var value = reader.Bytes();
                    events.Add((version, kind == ServerLog.KindValue ? value : null, flags));
                    if (version >= untilVersion)
                        return events;
                }
                await Task.Delay(20, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"Timed out after 30 s waiting for the resumed watch of {key} at {server} to reach version {untilVersion}; " +
                $"events so far (version/flags): {string.Join(' ', events.Select(e => $"{e.Item1}/{e.Item3}"))}; refusals: {string.Join(" | ", refusals.Distinct())}");
        }
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
