using System.Diagnostics;

namespace RaySharp.Tests;

/// <summary>Remote functions used by the tests (static methods: they run in worker processes).</summary>
internal static class Work
{
    public static int Add(int a, int b) => a + b;

    public static long Sum(long[] xs) => xs.Sum();

    public static int Pid() => Environment.ProcessId;

    public static int Fail(string message) => throw new InvalidOperationException(message);

    public static int Twice(int x) => 2 * x;

    /// <summary>Sums 1..n by recursively splitting into remote subtasks that block in Get.</summary>
    public static long NestedSum(int from, int to)
    {
        if (to - from < 4)
            return Enumerable.Range(from, to - from + 1).Sum(i => (long)i);
        var mid = (from + to) / 2;
        var ray = Ray.Current;
        var left = ray.Task(NestedSum, from, mid).Remote();
        var right = ray.Task(NestedSum, mid + 1, to).Remote();
        return left.Get() + right.Get();
    }

    public static int UseActorInsideTask(int start)
    {
        var counter = Ray.Current.Actor(() => new Counter(start)).Remote();
        counter.Call(c => c.Add(1)).Get();
        return counter.Call(c => c.Add(1)).Get();
    }

    /// <summary>First run: writes its pid and hangs (to be killed). A retry finds the file and returns its own pid.</summary>
    public static int HangOnFirstRun(string marker)
    {
        if (File.Exists(marker))
            return Environment.ProcessId;
        File.WriteAllText(marker, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return -1;
    }

    /// <summary>Writes its pid, then hangs until killed.</summary>
    public static int Hang(string marker)
    {
        File.WriteAllText(marker, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return -1;
    }

    public static long SumOfRefs(Holder holder) => holder.Refs.Sum(r => (long)r.Get());

    public static ObjectRef<int> MakeRef(int value) => Ray.Current.Put(value);

    public static int Sleepy(int ms)
    {
        var clock = Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < ms)
        {
            if (Ray.TaskCancellation.IsCancellationRequested)
                return -1;
            Thread.Sleep(5);
        }
        return ms;
    }
}

public sealed record Holder(ObjectRef<int>[] Refs);

public sealed class Counter(int start)
{
    private readonly List<int> _log = [];
    private int _value = start;

    public int Add(int n)
    {
        _value += n;
        _log.Add(n);
        return _value;
    }

    public int[] Log() => [.. _log];

    public int Value() => _value;

    public int Pid() => Environment.ProcessId;

    public string Describe(object value) => value.GetType().Name;

    public int HangAndWritePid(string marker)
    {
        File.WriteAllText(marker, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Thread.Sleep(TimeSpan.FromMinutes(2));
        return -1;
    }

    public async Task<int> SlowAddAsync(int n)
    {
        await Task.Delay(10);
        return Add(n);
    }
}

public sealed class Exploding
{
    public Exploding(int x) => throw new ArgumentOutOfRangeException(nameof(x), x, "constructor refuses");

    public int Value() => 1;
}

/// <summary>A value MessagePack cannot serialise: it holds a delegate.</summary>
public sealed class Unserialisable
{
    public Func<int> Callback { get; set; } = () => 1;
}

public sealed class Concurrent
{
    private int _running;
    private int _peak;

    public async Task<int> EnterAsync()
    {
        var now = Interlocked.Increment(ref _running);
        InterlockedMax(ref _peak, now);
        await Task.Delay(100);
        Interlocked.Decrement(ref _running);
        return _peak;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
