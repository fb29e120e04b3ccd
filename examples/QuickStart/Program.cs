// RaySharp quick start: Monte-Carlo π over many tasks, an actor counter, and a Wait-driven pipeline,
// on an embedded single-node cluster (or the one at RAYSHARP_ADDRESS). Run:
//   dotnet run -c Release --project examples/QuickStart            (add --local for local mode)
using System.Diagnostics;
using RaySharp;

var local = args.Contains("--local");
var clock = Stopwatch.StartNew();
await using var ray = await Ray.InitAsync(new RayOptions { LocalMode = local });
Console.WriteLine($"RaySharp started {(local ? "in local mode" : $"at {ray.Address}")} in {clock.ElapsedMilliseconds} ms");

// 1. Remote functions: 64 tasks of 1M samples each, then a task that sums their results.
clock.Restart();
const int Tasks = 64, Samples = 1_000_000;
ObjectRef<long>[] parts = Enumerable.Range(0, Tasks)
    .Select(i => ray.Task(MonteCarlo.Hits, Samples, i).Remote())
    .ToArray();
ObjectRef<long> total = ray.Task(MonteCarlo.Sum, parts).Remote();   // refs are resolved before Sum runs
var pi = 4.0 * await total / ((long)Tasks * Samples);
Console.WriteLine($"π ≈ {pi:F5} from {Tasks} tasks × {Samples:N0} samples in {clock.ElapsedMilliseconds} ms");

// 2. An actor: state in its own process; calls from one caller run in order.
clock.Restart();
ActorHandle<Counter> counter = ray.Actor(() => new Counter(10)).WithName("counter").Remote();
var adds = Enumerable.Range(1, 100).Select(i => counter.Call(c => c.Add(1))).ToArray();
int last = await adds[^1];
Console.WriteLine($"counter: 10 + 100 increments = {last} (calls ran in order: {await counter.Call(c => c.History())}) in {clock.ElapsedMilliseconds} ms");

// 3. A pipeline driven by Wait: handle results as they finish, keep 4 stages in flight.
clock.Restart();
var pending = new List<ObjectRef<double>>();
var processed = 0;
var sum = 0.0;
for (var i = 0; i < 32; i++)
{
    pending.Add(ray.Task(Pipeline.Stage, i).Remote());
    if (pending.Count >= 4)
    {
        var (ready, rest) = await ray.WaitAsync(pending, numReturns: 1, timeout: TimeSpan.FromSeconds(30));
        foreach (var r in ready)
        {
            sum += await r;
            processed++;
        }
        pending = [.. rest];
    }
}
foreach (var r in pending)
{
    sum += await r;
    processed++;
}
Console.WriteLine($"pipeline: {processed} stages, checksum {sum:F1} in {clock.ElapsedMilliseconds} ms");

// 4. Errors surface where the value is read, with the remote type, message and stack.
try
{
    await ray.Task(Pipeline.Fails, 7).Remote();
}
catch (RayTaskException e)
{
    Console.WriteLine($"error from a task: {e.RemoteType}: {e.RemoteMessage}");
}

internal static class MonteCarlo
{
    public static long Hits(int samples, int seed)
    {
        var random = new Random(seed);
        long hits = 0;
        for (var i = 0; i < samples; i++)
        {
            double x = random.NextDouble(), y = random.NextDouble();
            if (x * x + y * y <= 1)
                hits++;
        }
        return hits;
    }

    public static long Sum(long[] parts) => parts.Sum();
}

internal sealed class Counter(int start)
{
    private readonly List<int> _seen = [];
    private int _value;

    public int Add(int n)
    {
        _value += n;
        _seen.Add(start + _value);
        return start + _value;
    }

    public bool History() => _seen.SequenceEqual(Enumerable.Range(start + 1, _seen.Count));
}

internal static class Pipeline
{
    public static async Task<double> Stage(int i)
    {
        await Task.Delay(5 + i % 4 * 5);
        return Math.Sqrt(i);
    }

    public static int Fails(int i) => i > 5 ? throw new InvalidOperationException($"input {i} is too large") : i;
}
