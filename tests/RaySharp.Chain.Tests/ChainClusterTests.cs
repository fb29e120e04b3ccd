using System.Globalization;
using System.Text;
using RaySharp.Chain.Checking;
using RaySharp.Chain.Client;
using Xunit.Abstractions;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

public sealed class ChainClusterTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "raysharp-chain-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_data))
            Directory.Delete(_data, recursive: true);
    }

    /// <summary>Where servers with <paramref name="fsync"/> keep their logs: a fresh folder for "always", none for "none".</summary>
    private string? DataFor(string fsync) => fsync == "none" ? null : _data;

    [Fact]
    public async Task Put_get_delete_and_compare_and_swap_round_trip_through_a_three_server_chain()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);

        Assert.Equal(new(null, 0), await chain.GetAsync("alpha"));
        Assert.Equal(1, await chain.PutAsync("alpha", Bytes("one")));
        var entry = await chain.GetAsync("alpha");
        Assert.Equal(("one", 1L), (Text(entry.Value), entry.Version));

        Assert.Equal(new(false, 1), await chain.CompareAndSwapAsync("alpha", 0, Bytes("stale")));
        Assert.Equal(new(true, 2), await chain.CompareAndSwapAsync("alpha", 1, Bytes("two")));
        Assert.Equal("two", Text((await chain.GetAsync("alpha")).Value));

        Assert.Equal(new(true, 3), await chain.DeleteAsync("alpha"));
        Assert.Equal(new(null, 3), await chain.GetAsync("alpha"));
        Assert.Equal(new(false, 4), await chain.DeleteAsync("alpha"));
        Assert.Equal(5, await chain.PutAsync("alpha", Bytes("back")));
    }

    [Fact]
    public async Task Pipelined_writes_from_many_tasks_all_commit_with_consecutive_versions()
    {
        await using var cluster = await StartAsync();
        await using var chain = await ClientAsync(cluster);

        var versions = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => chain.PutAsync("counter", Bytes(i.ToString()))));

        Assert.Equal(Enumerable.Range(1, 500).Select(v => (long)v), versions.Order());
        Assert.Equal(500, (await chain.GetAsync("counter")).Version);
    }

    // Both fsync policies: a durable server writes from every read loop (ChainServer.WriteInline), a volatile
    // one only from its clients' and hands the chain's frames to each peer connection's writer.
    [Theory]
    [InlineData("none")]
    [InlineData("always")]
    public async Task Histories_stay_linearizable_while_head_middle_and_tail_are_killed_and_restarted(string fsync)
    {
        var (seed, random) = Seeded();
        await using var cluster = await StartAsync(4, 3, DataFor(fsync), fsync);
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        var history = new HistoryRecorder();
        using var stop = new CancellationTokenSource();
        var workload = RunWorkloadAsync(chain, history, clients: 6, keys: 4, seed: seed, stop.Token);

        // Head, middle and tail each die once, in a random order, plus one more at a random position; each
        // time in the group of a random key.
        int[] positions = [.. new[] { 0, 1, 2 }.OrderBy(_ => random.Next()), random.Next(3)];
        output.WriteLine($"seed {seed}: kill positions {string.Join(", ", positions)}");
        foreach (var position in positions)
        {
            await WaitForOperationsAsync(history, 100, $"before killing position {position} (seed {seed})");
            var view = await chain.GetClusterViewAsync();
            var group = Placement.GroupOf("k" + random.Next(4), view.Chains.Count);
            var victim = view.Chains[group][position];
            cluster.KillServer(victim);
            await WaitForViewAsync(chain, v => !v.Chains[group].Contains(victim), $"server {victim} (position {position}) to be cut out of group {group} (seed {seed})");
            await WaitFullyReplicatedAsync(chain, cluster);
            await cluster.StartServerAsync(victim);
        }
        await WaitForOperationsAsync(history, 100, $"after the last restart (seed {seed})");
        stop.Cancel();
        await workload;

        AssertLinearizable(history, minimumCompleted: 200, seed);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("always")]
    public async Task Histories_stay_linearizable_with_injected_delays_and_dropped_connections(string fsync)
    {
        var (seed, random) = Seeded();
        await using var cluster = await StartAsync(4, 3, DataFor(fsync), fsync, "--fault-delay-ms", "3", "--fault-drop", "0.003", "--seed", seed.ToString(CultureInfo.InvariantCulture));
        await using var chain = await ClientAsync(cluster);
        await WaitFullyReplicatedAsync(chain, cluster);
        var history = new HistoryRecorder();
        using var stop = new CancellationTokenSource();
        var workload = RunWorkloadAsync(chain, history, clients: 6, keys: 3, seed: seed, stop.Token);
        var position = random.Next(3);
        output.WriteLine($"seed {seed}: kill position {position}");
        await WaitForOperationsAsync(history, 100, $"before killing position {position} (seed {seed})");
        var view = await chain.GetClusterViewAsync();
        cluster.KillServer(view.Chains[Placement.GroupOf("k" + random.Next(3), view.Chains.Count)][position]);
        await WaitForOperationsAsync(history, 100, $"after killing position {position} (seed {seed})");
        stop.Cancel();
        await workload;

        AssertLinearizable(history, minimumCompleted: 100, seed);
    }

    /// <summary>The fault schedule's seed: <c>CHAIN_TEST_SEED</c> when set (to replay a failure), else a fresh one.</summary>
    private static (int Seed, Random Random) Seeded()
    {
        var text = Environment.GetEnvironmentVariable("CHAIN_TEST_SEED");
        var seed = text is null ? Random.Shared.Next(1, 1_000_000) : int.Parse(text, CultureInfo.InvariantCulture);
        return (seed, new Random(seed));
    }

    [Fact]
    public async Task A_read_waiting_on_a_hung_tail_is_retried_on_the_new_tail_once_the_controller_cuts_the_tail_out()
    {
        await using var cluster = await StartAsync();
        // One attempt may wait 120 s: only dropping the cut-out server's connection ends it sooner.
        await using var chain = await ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = cluster.Controller,
            AttemptTimeout = TimeSpan.FromSeconds(120),
            OperationTimeout = TimeSpan.FromSeconds(120),
        });
        await WaitFullyReplicatedAsync(chain, cluster);
        await chain.PutAsync("hung", Encoding.UTF8.GetBytes("value"));
        var view = await chain.GetClusterViewAsync();
        var tail = view.Chains[Placement.GroupOf("hung", view.Chains.Count)][^1];
        cluster.SuspendServer(tail);
        try
        {
            var read = chain.GetAsync("hung");
            var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(finished == read, $"the read sent to hung server {tail} did not complete within 60 s of suspending it (the controller cuts a server out after 1.5 s of missed heartbeats)");
            Assert.Equal("value", Encoding.UTF8.GetString((await read).Value!));
            var after = await chain.GetClusterViewAsync();
            Assert.DoesNotContain(tail, after.Chains[Placement.GroupOf("hung", after.Chains.Count)]);
        }
        finally
        {
            cluster.ResumeServer(tail);
        }
    }

    [Fact]
    public async Task The_checker_catches_stale_reads_when_reads_are_served_by_any_replica()
    {
        // A deliberately broken variant: reads go to a random replica, not the tail, and replication is slowed.
        await using var cluster = await StartAsync(3, 3, null, "none", "--unsafe-reads-anywhere", "--fault-delay-ms", "20");
        await using var chain = await ClientAsync(cluster, unsafeReads: true);
        await WaitFullyReplicatedAsync(chain, cluster);

        CheckResult? violation = null;
        for (var round = 0; round < 10 && violation is null; round++)
        {
            var history = new HistoryRecorder();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await RunWorkloadAsync(chain, history, clients: 6, keys: 2, seed: 10 + round, stop.Token);
            var result = Linearizability.Check(history.Ops);
            if (!result.Linearizable)
                violation = result;
        }

        Assert.NotNull(violation);
        output.WriteLine(violation.Explanation);
        Assert.Contains("no linearization explains", violation.Explanation, StringComparison.Ordinal);
    }

    /// <summary>
    /// Checks the recorded history; on failure, writes the stale reads of the offending key (each with
    /// a write that had returned before the read was called) before failing.
    /// </summary>
    private void AssertLinearizable(HistoryRecorder history, int minimumCompleted, int seed)
    {
        var ops = history.Ops;
        Assert.True(ops.Count(o => !o.Unknown) > minimumCompleted, $"only {ops.Count(o => !o.Unknown)} operations completed (seed {seed}; rerun with CHAIN_TEST_SEED={seed})");
        var result = Linearizability.Check(ops);
        output.WriteLine($"{ops.Count} operations, {ops.Count(o => o.Unknown)} with unknown outcome: {result.Explanation}");
        if (!result.Linearizable)
        {
            var t0 = ops.Min(o => o.Call);
            var keyOps = ops.Where(o => o.Key == result.Key && !o.Unknown).ToList();
            foreach (var read in keyOps.Where(o => o.Kind == KvOpKind.Get))
            {
                var before = keyOps.Where(o => o.Return < read.Call && o.Version > read.Version).Take(1).ToList();
                foreach (var b in before)
                    output.WriteLine($"  stale: [{(read.Call - t0) / 1000}, {(read.Return - t0) / 1000}] {read} after [{(b.Call - t0) / 1000}, {(b.Return - t0) / 1000}] {b}");
            }
        }
        Assert.True(result.Linearizable, $"{result.Explanation} (seed {seed}; rerun with CHAIN_TEST_SEED={seed})");
    }
}
