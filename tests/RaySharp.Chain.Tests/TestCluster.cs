using System.Diagnostics;
using System.Text;
using RaySharp.Chain.Checking;
using RaySharp.Chain.Client;
using RaySharp.Chain.Hosting;

namespace RaySharp.Chain.Tests;

/// <summary>Helpers shared by the multi-process tests.</summary>
internal static class TestCluster
{
    public static Task<LocalChainCluster> StartAsync(int servers = 3, int replicas = 3, string? dataRoot = null, string fsync = "none", params string[] serverArgs) =>
        StartWithControllerArgsAsync(servers, replicas, [], dataRoot, fsync, serverArgs);

    public static Task<LocalChainCluster> StartWithControllerArgsAsync(int servers, int replicas, string[] controllerArgs, string? dataRoot = null, string fsync = "none", params string[] serverArgs) =>
        LocalChainCluster.StartAsync(new LocalChainClusterOptions
        {
            ControllerArguments = controllerArgs,
            Servers = servers,
            Replicas = replicas,
            Groups = 16,
            DataRoot = dataRoot,
            Fsync = fsync,
            FailureTimeout = TimeSpan.FromMilliseconds(1500),
            ServerArguments = serverArgs,
        });

    public static Task<ChainClient> ClientAsync(LocalChainCluster cluster, bool unsafeReads = false) =>
        ChainClient.ConnectAsync(new ChainClientOptions
        {
            Controller = cluster.Controller,
            // Generous: these tests check correctness, and on a loaded 2-core CI machine a reply can
            // take seconds; a timed-out write is indeterminate and would fail the test for latency alone.
            OperationTimeout = TimeSpan.FromSeconds(30),
            AttemptTimeout = TimeSpan.FromSeconds(6),
            UnsafeReadFromAnyReplica = unsafeReads,
        });

    /// <summary>Polls the controller until <paramref name="condition"/> holds; fails with what was awaited.</summary>
    public static async Task<ChainClusterView> WaitForViewAsync(ChainClient client, Func<ChainClusterView, bool> condition, string what, int seconds = 30)
    {
        var clock = Stopwatch.StartNew();
        ChainClusterView? view = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            try
            {
                view = await client.GetClusterViewAsync();
                if (condition(view))
                    return view;
            }
            catch (ChainUnavailableException)
            {
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"Timed out after {seconds} s waiting for {what}; last view at epoch {view?.Epoch}: " +
            string.Join(" ", view?.Chains.Select((c, g) => $"g{g}[{string.Join(',', c)}{(view.Joining[g] >= 0 ? "+" + view.Joining[g] : "")}]") ?? []));
    }

    /// <summary>
    /// Waits until the workload has completed <paramref name="more"/> operations beyond those completed
    /// now, so a fault lands amid traffic however slow the machine is (no fixed time window).
    /// </summary>
    public static async Task WaitForOperationsAsync(HistoryRecorder history, int more, string when, int seconds = 60)
    {
        var target = Completed(history) + more;
        var clock = Stopwatch.StartNew();
        while (Completed(history) < target)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
                throw new TimeoutException($"Timed out after {seconds} s waiting for {more} operations to complete {when}; {Completed(history)} of {target} have.");
            await Task.Delay(20);
        }
    }

    private static int Completed(HistoryRecorder history) => history.Ops.Count(o => !o.Unknown);

    public static Task<ChainClusterView> WaitFullyReplicatedAsync(ChainClient client, LocalChainCluster cluster) =>
        WaitForViewAsync(client, v => v.IsFullyReplicatedOn(cluster.RunningServers), $"every chain to have f + 1 of the running servers {string.Join(',', cluster.RunningServers)}");

    /// <summary>
    /// Waits until every chain is on the servers consistent hashing places it on, not only f + 1 of them: until
    /// then a rebalance may still move a group onto a server, which is fed (and keeps in its watch history)
    /// every write of the group while it joins.
    /// </summary>
    public static Task<ChainClusterView> WaitSettledAsync(ChainClient client, LocalChainCluster cluster) =>
        WaitForViewAsync(client, v => v.IsFullyReplicatedOn(cluster.RunningServers) &&
            v.Chains.Select((c, g) => Placement.DesiredChain(g, cluster.RunningServers, v.Replicas).Order().SequenceEqual(c.Order())).All(same => same),
            $"every chain on the servers consistent hashing places it on among {string.Join(',', cluster.RunningServers)}");

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string? Text(byte[]? bytes) => bytes is null ? null : Encoding.UTF8.GetString(bytes);

    /// <summary>
    /// Runs <paramref name="clients"/> concurrent clients doing random gets, puts, deletes and CASes on
    /// <paramref name="keys"/> keys until <paramref name="stop"/> fires, recording the history.
    /// </summary>
    public static async Task RunWorkloadAsync(ChainClient chain, HistoryRecorder history, int clients, int keys, int seed, CancellationToken stop)
    {
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed * 1000 + c);
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var key = "k" + random.Next(keys);
                var roll = random.Next(100);
                var value = $"c{c}-{n++}";
                KvOp op;
                try
                {
                    if (roll < 50)
                    {
                        op = history.Begin(c, key, KvOpKind.Get);
                        var entry = await chain.GetAsync(key);
                        HistoryRecorder.End(op, true, entry.Version, Text(entry.Value));
                    }
                    else if (roll < 80)
                    {
                        op = history.Begin(c, key, KvOpKind.Put, value);
                        var version = await chain.PutAsync(key, Bytes(value));
                        HistoryRecorder.End(op, true, version, null);
                    }
                    else if (roll < 90)
                    {
                        op = history.Begin(c, key, KvOpKind.Delete);
                        var result = await chain.DeleteAsync(key);
                        HistoryRecorder.End(op, result.Succeeded, result.Version, null);
                    }
                    else
                    {
                        var expected = random.Next(3) == 0 ? random.Next(5) : -1;
                        if (expected < 0)
                        {
                            // CAS against a version just read: the common pattern.
                            var read = history.Begin(c, key, KvOpKind.Get);
                            var entry = await chain.GetAsync(key);
                            HistoryRecorder.End(read, true, entry.Version, Text(entry.Value));
                            expected = (int)entry.Version;
                        }
                        op = history.Begin(c, key, KvOpKind.Cas, value, expected);
                        var result = await chain.CompareAndSwapAsync(key, expected, Bytes(value));
                        HistoryRecorder.End(op, result.Succeeded, result.Version, null);
                    }
                }
                catch (ChainException)
                {
                    // Outcome unknown: the operation stays open (return = ∞) in the history.
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
    }
}
