using System.Diagnostics;
using System.Net;
using System.Text;
using RaySharp.Chain.Client;

namespace RaySharp.Bench.Chain;

/// <summary>A store under test, seen as gets and puts of small values by numbered clients.</summary>
internal interface IKvTarget : IAsyncDisposable
{
    Task PutAsync(int client, string key, byte[] value);

    Task GetAsync(int client, string key);
}

internal sealed class ChainTarget(ChainClient chain) : IKvTarget
{
    public Task PutAsync(int client, string key, byte[] value) => chain.PutAsync(key, value);

    public Task GetAsync(int client, string key) => chain.GetAsync(key);

    public ValueTask DisposeAsync() => chain.DisposeAsync();
}

/// <summary>ZooKeeper through up to 8 pipelined sessions spread over the members; reads are ZooKeeper's
/// (served by the member the session is connected to).</summary>
internal sealed class ZooKeeperTarget(List<ZooKeeperClient> sessions) : IKvTarget
{
    public static async Task<ZooKeeperTarget> ConnectAsync(IReadOnlyList<IPEndPoint> members, CancellationToken cancellationToken)
    {
        var sessions = new List<ZooKeeperClient>();
        for (var i = 0; i < 8; i++)
            sessions.Add(await ZooKeeperClient.ConnectAsync(members[i % members.Count], TimeSpan.FromSeconds(10), cancellationToken));
        return new ZooKeeperTarget(sessions);
    }

    public ZooKeeperClient Session(int client) => sessions[client % sessions.Count];

    public Task PutAsync(int client, string key, byte[] value) => Session(client).SetDataAsync("/" + key, value);

    public Task GetAsync(int client, string key) => Session(client).GetDataAsync("/" + key);

    public async ValueTask DisposeAsync()
    {
        foreach (var session in sessions)
            await session.DisposeAsync();
    }
}

/// <summary>etcd through the gRPC v3 client (dotnet-etcd) balancing over the members; reads are linearizable (etcd's default).</summary>
internal sealed class EtcdTarget(dotnet_etcd.EtcdClient etcd) : IKvTarget
{
    public Task PutAsync(int client, string key, byte[] value) => etcd.PutAsync(key, Encoding.ASCII.GetString(value));

    public Task GetAsync(int client, string key) => etcd.GetValAsync(key);

    public ValueTask DisposeAsync()
    {
        etcd.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Closed-loop clients doing a read/write mix over a fixed key space; measures ops/s and latency percentiles.</summary>
internal static class KvWorkload
{
    public const int Keys = 1000;

    public static readonly byte[] Value = Encoding.ASCII.GetBytes("0123456789abcdef");

    public static string Key(int i) => "bench" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public sealed record Result(double[] Rates, double P50Us, double P99Us);

    /// <summary>
    /// Runs <paramref name="clients"/> concurrent clients, each issuing one operation at a time, with
    /// <paramref name="readPercent"/>% gets. A short probe sizes the operation count so that each timed run
    /// lasts about <paramref name="runLength"/>; then <see cref="Measure.RateAsync"/> warms up and times.
    /// </summary>
    public static async Task<Result> RunAsync(IKvTarget target, int clients, int readPercent, TimeSpan runLength, int runs, CancellationToken cancellationToken)
    {
        var probeOps = 0L;
        var probe = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var random = new Random(c);
            while (probe.Elapsed < runLength / 3 && !cancellationToken.IsCancellationRequested)
            {
                await OneAsync(target, c, random, readPercent);
                Interlocked.Increment(ref probeOps);
            }
        }));
        var operations = Math.Max(clients * 4L, (long)(probeOps / probe.Elapsed.TotalSeconds * runLength.TotalSeconds));

        var latencies = new List<double>();
        var recording = false;
        var rates = await Measure.RateAsync(runs, operations, async () =>
        {
            var remaining = operations;
            var perClient = await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                var random = new Random(c * 7919 + 1);
                var mine = new List<double>();
                while (Interlocked.Decrement(ref remaining) >= 0)
                {
                    var start = Stopwatch.GetTimestamp();
                    await OneAsync(target, c, random, readPercent);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
                return mine;
            }));
            if (recording)
            {
                foreach (var list in perClient)
                    latencies.AddRange(list);
            }
            recording = true; // the first call is the warm-up
        });
        latencies.Sort();
        return new Result(rates, Percentile(latencies, 0.50), Percentile(latencies, 0.99));
    }

    private static Task OneAsync(IKvTarget target, int client, Random random, int readPercent)
    {
        var key = Key(random.Next(Keys));
        return random.Next(100) < readPercent ? target.GetAsync(client, key) : target.PutAsync(client, key, Value);
    }

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)(p * sorted.Count))];
}
