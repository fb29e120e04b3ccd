using System.Diagnostics;
using System.Globalization;
using RaySharp.Chain;
using RaySharp.Chain.Client;
using RaySharp.Chain.Diagnostics;
using RaySharp.Chain.Hosting;

namespace RaySharp.Bench.Chain;

/// <summary>
/// <c>chain</c>: throughput and latency of the chain store (3 servers, f = 2 and f = 1) against ZooKeeper
/// 3.8 and etcd 3.4 three-member ensembles, for read-only, write-only and 90/10 mixes at 1, 8 and 64
/// clients, with durability on (fsync per write) and off; then kill -9 of head, middle and tail under a
/// write load: the longest client-visible stall and the time until every chain has f + 1 replicas again.
/// </summary>
internal sealed class ChainBenchmark : IBenchmark
{
    private static readonly (string Name, int ReadPercent)[] Mixes = [("read", 100), ("write", 0), ("mix90", 90)];
    private static readonly int[] ClientCounts = [1, 8, 64];

    public string Verb => "chain";

    public string Description => "chain replication vs ZooKeeper and etcd: ops/s, p50/p99 by mix and clients; failover stall";

    public async Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        var runLength = TimeSpan.FromSeconds(context.Quick ? 0.3 : 1.5);
        var runs = context.Quick ? 1 : 3;
        var scratch = Path.Combine(Path.GetTempPath(), "raysharp-bench-chain-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        // "--only failover|transport|security|chain" runs that part alone (for iterating on it; "chain": the chain's
        // own cells, without ZooKeeper, etcd, the transport comparison, the security cells or the kills).
        var only = context.Args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
        if (only is null or "transport")
            await TransportComparison.MeasureAsync(report, runLength, runs, cancellationToken);
        if (only is null or "security")
            await SecurityCost.MeasureAsync(report, runLength, runs, cancellationToken);
        foreach (var durable in only is "failover" or "transport" or "security" ? [] : new[] { true, false })
        {
            var suffix = durable ? "durable" : "volatile";
            // Durable runs keep their logs on disk; volatile ones skip fsync (chain, ZooKeeper) or live on tmpfs (etcd 3.4).
            var disk = Path.Combine(durable ? scratch : Path.Combine("/dev/shm", Path.GetFileName(scratch)), suffix);
            foreach (var replicas in new[] { 3, 2 })
            {
                await using var cluster = await LocalChainCluster.StartAsync(new LocalChainClusterOptions
                {
                    Servers = 3,
                    Replicas = replicas,
                    DataRoot = Path.Combine(disk, $"chain-f{replicas - 1}"),
                    Fsync = durable ? "always" : "none",
                }, cancellationToken);
                await using var target = new ChainTarget(await ConnectAsync(cluster, cancellationToken));
                await WaitFullyReplicatedAsync(cluster, cancellationToken);
                await MeasureAllAsync(report, $"chain_f{replicas - 1}", suffix, target, runLength, runs, cancellationToken);
            }
            if (only == "chain")
                continue;
            if (ZooKeeperEnsemble.Installed)
            {
                await using var zk = await ZooKeeperEnsemble.StartAsync(Path.Combine(scratch, "zk-" + suffix), durable, cancellationToken);
                await using var target = await ZooKeeperTarget.ConnectAsync(zk.Clients, cancellationToken);
                await Task.WhenAll(Enumerable.Range(0, KvWorkload.Keys).Select(i => target.Session(i).CreateAsync("/" + KvWorkload.Key(i), KvWorkload.Value)));
                await MeasureAllAsync(report, "zookeeper", suffix, target, runLength, runs, cancellationToken);
            }
            else
            {
                report.Note("ZooKeeper is not installed (apt-get install zookeeper): zookeeper_* metrics are missing.");
            }
            if (EtcdEnsemble.Installed)
            {
                await using var etcd = await EtcdEnsemble.StartAsync(Path.Combine(disk, "etcd"), cancellationToken);
                await using var target = new EtcdTarget(new dotnet_etcd.EtcdClient(string.Join(',', etcd.Clients.Select(c => $"http://{c}"))));
                await MeasureAllAsync(report, "etcd", suffix, target, runLength, runs, cancellationToken);
            }
            else
            {
                report.Note("etcd is not installed (apt-get install etcd-server): etcd_* metrics are missing.");
            }
        }
        if (only is null or "failover")
            await MeasureFailoverAsync(report, context.Quick, cancellationToken);
        CheckTargets(report);
        TryDelete(scratch);
        TryDelete(Path.Combine("/dev/shm", Path.GetFileName(scratch)));
    }

    private static async Task MeasureAllAsync(BenchReport report, string system, string durability, IKvTarget target, TimeSpan runLength, int runs, CancellationToken cancellationToken)
    {
        // Every key exists before reads are timed.
        await Task.WhenAll(Enumerable.Range(0, KvWorkload.Keys).Select(i => target.PutAsync(i, KvWorkload.Key(i), KvWorkload.Value)));
        foreach (var (mix, readPercent) in Mixes)
        {
            foreach (var clients in ClientCounts)
            {
                var result = await KvWorkload.RunAsync(target, clients, readPercent, runLength, runs, cancellationToken);
                var name = $"{system}_{durability}_{mix}_c{clients}";
                report.Add(name + "_ops", "ops/s", result.Rates);
                report.Add(name + "_p50", "us", result.P50Us);
                report.Add(name + "_p99", "us", result.P99Us);
            }
        }
    }

    private static Task<ChainClient> ConnectAsync(LocalChainCluster cluster, CancellationToken cancellationToken) =>
        ChainClient.ConnectAsync(new ChainClientOptions { Controller = cluster.Controller, OperationTimeout = TimeSpan.FromSeconds(10) }, cancellationToken);

    private static async Task<TimeSpan> WaitFullyReplicatedAsync(LocalChainCluster cluster, CancellationToken cancellationToken, ChainClient? client = null)
    {
        var clock = Stopwatch.StartNew();
        var own = client is null;
        client ??= await ConnectAsync(cluster, cancellationToken);
        try
        {
            ChainClusterView? view = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                view = await client.GetClusterViewAsync(cancellationToken);
                if (IsSettled(view, cluster.RunningServers))
                    return clock.Elapsed;
                await Task.Delay(2, cancellationToken);
            }
            throw new TimeoutException($"The chain cluster did not reach f + 1 replicas per group on servers {string.Join(',', cluster.RunningServers)} within 60 s; at epoch {view?.Epoch}: " +
                string.Join(' ', view?.Chains.Select((c, g) => $"g{g}[{string.Join(',', c)}{(view.Joining[g] >= 0 ? "+" + view.Joining[g] : "")}]") ?? []));
        }
        finally
        {
            if (own)
                await client.DisposeAsync();
        }
    }

    /// <summary>Waits until <paramref name="cluster"/> is settled (<see cref="IsSettled"/>), asking with a client of
    /// <paramref name="options"/> (a secured cluster needs its token and TLS settings).</summary>
    public static async Task WaitSettledAsync(LocalChainCluster cluster, ChainClientOptions options, CancellationToken cancellationToken)
    {
        await using var client = await ChainClient.ConnectAsync(options, cancellationToken);
        await WaitFullyReplicatedAsync(cluster, cancellationToken, client);
    }

    /// <summary>
    /// True when every group has f + 1 running servers and they are the ones consistent hashing places it on
    /// (the rebalancing is over). f + 1 replicas alone is not enough: a server that has just started is not
    /// registered yet, and once it is, the controller moves groups onto it one configuration at a time — a
    /// measurement (or a kill) started then would run during that rebalancing.
    /// </summary>
    private static bool IsSettled(ChainClusterView view, IReadOnlyCollection<int> running) =>
        view.IsFullyReplicatedOn(running) &&
        view.Chains.Select((chain, g) => Placement.DesiredChain(g, running, view.Replicas).Order().SequenceEqual(chain.Order())).All(same => same);

    /// <summary>
    /// Four servers, f = 2, no fsync; 8 clients write continuously (an operation that fails is retried
    /// until it succeeds, and its latency runs from the first attempt). The head, a middle and the tail of
    /// one group are killed in turn, for several rounds; each kill is followed by recovery onto the spare and a restart.
    /// </summary>
    private static async Task MeasureFailoverAsync(BenchReport report, bool quick, CancellationToken cancellationToken)
    {
        // RAYSHARP_CHAIN_TRACE=DIR traces every process's failover events (docs/chain.md, "Where a stall goes").
        ChainTrace.SetRole("bench");
        var options = new LocalChainClusterOptions { Servers = 4, Replicas = 3 };
        await using var cluster = await LocalChainCluster.StartAsync(options, cancellationToken);
        await using var chain = await ConnectAsync(cluster, cancellationToken);
        await WaitFullyReplicatedAsync(cluster, cancellationToken, chain);
        using var stop = new CancellationTokenSource();
        long windowStart = long.MaxValue;
        var worst = 0.0;
        var gate = new object();
        var writers = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            var random = new Random(c);
            while (!stop.IsCancellationRequested)
            {
                var key = KvWorkload.Key(random.Next(KvWorkload.Keys));
                var start = Stopwatch.GetTimestamp();
                while (!stop.IsCancellationRequested)
                {
                    try
                    {
                        await chain.PutAsync(key, KvWorkload.Value);
                        break;
                    }
                    catch (ChainException)
                    {
                    }
                }
                var end = Stopwatch.GetTimestamp();
                if (ChainTrace.Enabled && Stopwatch.GetElapsedTime(start, end) > TimeSpan.FromMilliseconds(5))
                    ChainTrace.Write(end, $"slow-op key={key} g={Placement.GroupOf(key, options.Groups)} start={start} ms={Stopwatch.GetElapsedTime(start, end).TotalMilliseconds:0.00}");
                lock (gate)
                {
                    if (end >= Volatile.Read(ref windowStart))
                        worst = Math.Max(worst, Stopwatch.GetElapsedTime(start, end).TotalMilliseconds);
                }
            }
        })).ToArray();

        // The stall is measured under a steady write load: let the load run before the first kill, so that
        // it does not land while every process is still compiling its hot write path (tiered JIT).
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);

        var positions = new[] { (0, "head"), (1, "middle"), (2, "tail") };
        var stalls = positions.ToDictionary(p => p.Item2, _ => new List<double>());
        var rewirings = positions.ToDictionary(p => p.Item2, _ => new List<double>());
        var restores = positions.ToDictionary(p => p.Item2, _ => new List<double>());
        var exits = positions.ToDictionary(p => p.Item2, _ => new List<double>());
        var configurations = positions.ToDictionary(p => p.Item2, _ => new List<double>());
        // One kill is one noisy sample (teardown time of the killed process varies); several rounds give
        // a max and a median per position.
        var rounds = quick ? 3 : 5;
        foreach (var (position, label) in Enumerable.Range(0, rounds).SelectMany(_ => positions))
        {
            await Task.Delay(quick ? 300 : 1000, cancellationToken);
            var view = await chain.GetClusterViewAsync(cancellationToken);
            var victim = view.Chains[0][position];
            lock (gate)
            {
                worst = 0;
                windowStart = Stopwatch.GetTimestamp();
            }
            var killedAt = Stopwatch.GetTimestamp();
            if (ChainTrace.Enabled)
                ChainTrace.Write(killedAt, $"kill server={victim} position={label} epoch={view.Epoch}");
            cluster.KillServer(victim); // returns once the process has been reaped: its sockets are closed by then
            exits[label].Add(Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds);
            if (ChainTrace.Enabled)
                ChainTrace.Write($"reaped server={victim}");
            double? rewired = null;
            while (true)
            {
                if (rewired is null && !(await chain.GetClusterViewAsync(cancellationToken)).Chains[0].Contains(victim))
                {
                    rewired = Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds;
                    if (ChainTrace.Enabled)
                        ChainTrace.Write($"rewired-seen server={victim}");
                }
                var now = await chain.GetClusterViewAsync(cancellationToken);
                if (now.IsFullyReplicatedOn(cluster.RunningServers))
                {
                    configurations[label].Add(now.Epoch - view.Epoch);
                    break;
                }
                await Task.Delay(1, cancellationToken);
            }
            var restore = Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds;
            if (ChainTrace.Enabled)
                ChainTrace.Write($"restored server={victim}");
            await Task.Delay(quick ? 300 : 1000, cancellationToken);
            double stall;
            lock (gate)
            {
                stall = worst;
                windowStart = long.MaxValue;
            }
            stalls[label].Add(stall);
            if (ChainTrace.Enabled)
                ChainTrace.Write($"window-end server={victim} stall_ms={stall:0.00}");
            rewirings[label].Add(rewired ?? restore);
            restores[label].Add(restore);
            await cluster.StartServerAsync(victim, cancellationToken);
            await WaitFullyReplicatedAsync(cluster, cancellationToken, chain);
        }
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        foreach (var (_, label) in positions)
        {
            report.Add($"chain_kill_{label}_stall_ms", "ms", stalls[label].Max());
            report.Add($"chain_kill_{label}_stall_median_ms", "ms", Median(stalls[label]));
            report.Add($"chain_kill_{label}_failover_ms", "ms", Median(rewirings[label]));
            report.Add($"chain_kill_{label}_restore_ms", "ms", Median(restores[label]));
            report.Add($"chain_kill_{label}_exit_ms", "ms", Median(exits[label]));
            report.Add($"chain_kill_{label}_configs", "configurations", Median(configurations[label]));
            report.Note($"Kill {label}, per kill: stall {string.Join(" / ", stalls[label].Select(v => v.ToString("0.0")))} ms; " +
                $"exit {string.Join(" / ", exits[label].Select(v => v.ToString("0.0")))} ms; rewired {string.Join(" / ", rewirings[label].Select(v => v.ToString("0.0")))} ms.");
        }
        report.Add("chain_kill_max_stall_ms", "ms", stalls.Values.SelectMany(s => s).Max());
        report.Note($"Failover: {rounds} kills per position; stall_ms is the max, stall_median_ms the median; exit_ms (the killed process reaped, so its sockets closed), failover_ms (chain rewired) and restore_ms (f + 1 replicas again) are medians from the kill; configs is the median number of configurations from the kill to f + 1 replicas.");
    }

    private static double Median(List<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static void CheckTargets(BenchReport report)
    {
        var metrics = report.Metrics.ToDictionary(m => m.Name, m => m.Stat.Mean);
        foreach (var durability in new[] { "durable", "volatile" })
        {
            foreach (var peer in new[] { "etcd", "zookeeper" })
            {
                foreach (var (mix, target) in new[] { ("write", 5.0), ("read", 10.0) })
                {
                    var ours = $"chain_f2_{durability}_{mix}_c64_ops";
                    var theirs = $"{peer}_{durability}_{mix}_c64_ops";
                    if (!metrics.TryGetValue(ours, out var a) || !metrics.TryGetValue(theirs, out var b) || b <= 0)
                        continue;
                    var ratio = a / b;
                    report.Add($"ratio_{mix}_vs_{peer}_{durability}", "x", ratio);
                    report.Note($"{mix} throughput at 64 clients, {durability}: chain f=2 is {ratio:0.0}× {peer} (target ≥ {target}×: {(ratio >= target ? "met" : "NOT met")}).");
                }
                var p50Ours = metrics.GetValueOrDefault($"chain_f2_{durability}_mix90_c1_p50");
                var p50Theirs = metrics.GetValueOrDefault($"{peer}_{durability}_mix90_c1_p50");
                if (p50Ours > 0 && p50Theirs > 0)
                    report.Note($"p50 latency (90/10, 1 client), {durability}: chain {p50Ours:0} µs vs {peer} {p50Theirs:0} µs (target: below: {(p50Ours < p50Theirs ? "met" : "NOT met")}).");
            }
        }
        if (metrics.TryGetValue("transport_tcp_c64_ops", out var tcp) && metrics.TryGetValue("transport_udp_c64_ops", out var udp))
        {
            report.Note($"Transport, 64 clients: TCP framing {tcp:0} ops/s vs UDP datagrams {udp:0} ops/s ({tcp / udp:0.0}×); 1 client p50: " +
                $"TCP {metrics.GetValueOrDefault("transport_tcp_c1_p50"):0} µs vs UDP {metrics.GetValueOrDefault("transport_udp_c1_p50"):0} µs.");
        }
        if (metrics.TryGetValue("chain_kill_max_stall_ms", out var stall))
            report.Note($"Longest client-visible stall when a server is killed: {stall:0.0} ms (target ≤ 50 ms: {(stall <= 50 ? "met" : "NOT met")}).");
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
