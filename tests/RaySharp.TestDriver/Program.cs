using System.Globalization;

namespace RaySharp.TestDriver;

/// <summary>
/// A driver program for tests that need a separate process: it attaches to the node at RAYSHARP_ADDRESS
/// (set by <c>raysharp submit</c> or by the test) and prints what it got on stdout, one KEY=value line each.
/// <list type="bullet">
/// <item><c>tasks N [EXIT]</c>: runs Square on 0..N-1 as tasks, prints SUM=…, exits with EXIT (default 0).</item>
/// <item><c>hold NAME START</c>: creates actor NAME = new Counter(START), prints READY=…, keeps it alive until stdin closes.</item>
/// <item><c>detach NAME START</c>: creates the detached actor NAME = new Counter(START), calls Add(1), prints READY=… and exits (the actor lives on).</item>
/// <item><c>call NAME DELTA</c>: finds actor NAME, calls Add(DELTA), prints RESULT=….</item>
/// </list>
/// </summary>
internal static class Program
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<int> Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("usage: RaySharp.TestDriver tasks N [EXIT] | hold NAME START | detach NAME START | call NAME DELTA");
            return 2;
        }
        await using var ray = await Ray.InitAsync();
        Console.WriteLine($"ADDRESS={ray.Address}");
        switch (args[0])
        {
            case "tasks":
                {
                    var n = int.Parse(args[1], CultureInfo.InvariantCulture);
                    var refs = Enumerable.Range(0, n).Select(i => ray.Task(Work.Square, (long)i).Remote()).ToArray();
                    var values = await ray.GetAsync(refs, Timeout);
                    Console.WriteLine($"SUM={values.Sum()}");
                    return args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
                }
            case "hold":
                {
                    var start = int.Parse(args[2], CultureInfo.InvariantCulture);
                    var counter = ray.Actor(() => new Counter(start)).WithName(args[1]).Remote();
                    var first = await counter.Call(c => c.Add(1)).GetAsync(Timeout);
                    Console.WriteLine($"READY={first}");
                    // Keep the job (and so its actor) alive until the test closes our stdin.
                    await Task.Run(() => Console.In.ReadToEnd()).WaitAsync(TimeSpan.FromMinutes(5));
                    Console.WriteLine("RELEASED");
                    return 0;
                }
            case "detach":
                {
                    var start = int.Parse(args[2], CultureInfo.InvariantCulture);
                    var counter = ray.Actor(() => new Counter(start)).WithName(args[1]).WithLifetime(ActorLifetime.Detached).Remote();
                    Console.WriteLine($"READY={await counter.Call(c => c.Add(1)).GetAsync(Timeout)}");
                    return 0;
                }
            case "call":
                {
                    var delta = int.Parse(args[2], CultureInfo.InvariantCulture);
                    var counter = await ray.GetActorAsync<Counter>(args[1]);
                    Console.WriteLine($"RESULT={await counter.Call(c => c.Add(delta)).GetAsync(Timeout)}");
                    return 0;
                }
            default:
                Console.Error.WriteLine($"unknown mode '{args[0]}'");
                return 2;
        }
    }
}

/// <summary>The remote function of <c>tasks</c>.</summary>
internal static class Work
{
    public static long Square(long x) => x * x;
}

/// <summary>The actor of <c>hold</c>, <c>detach</c> and <c>call</c>.</summary>
internal sealed class Counter(int start)
{
    private int _value = start;

    public int Add(int delta) => _value += delta;
}
