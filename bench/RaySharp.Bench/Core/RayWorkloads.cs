using RaySharp;

namespace RaySharp.Bench.Core;

/// <summary>
/// The remote functions of Ray's microbenchmark (python/ray/_private/ray_perf.py), in C#: they run in the
/// cluster's worker processes, which load this assembly.
/// </summary>
internal static class RayWorkloads
{
    /// <summary>Ray's <c>small_value</c>: returns <c>b"ok"</c>.</summary>
    public static byte[] SmallValue() => "ok"u8.ToArray();

    /// <summary>A large result: <paramref name="count"/> floats, all 1 (written by the worker straight into the store).</summary>
    public static float[] Floats(int count)
    {
        var values = GC.AllocateUninitializedArray<float>(count);
        values.AsSpan().Fill(1f);
        return values;
    }

    /// <summary>Sleeps <paramref name="ms"/> milliseconds (holding its CPU slot) and returns how long it slept, in ms.</summary>
    public static double SleepMilliseconds(int ms)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Thread.Sleep(ms);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Ray's <c>do_put_small</c>: 100 puts of a small value from inside a task.</summary>
    public static int PutSmall(int count)
    {
        var ray = Ray.Current;
        for (var i = 0; i < count; i++)
            ray.Put(0);
        return 0;
    }

    /// <summary>Ray's <c>create_object_containing_ref</c>: a value holding 10,000 refs put by the task.</summary>
    public static ObjectRef<int>[] CreateObjectContainingRefs(int count)
    {
        var ray = Ray.Current;
        var refs = new ObjectRef<int>[count];
        for (var i = 0; i < count; i++)
            refs[i] = ray.Put(1);
        return refs;
    }

    /// <summary>Ray's <c>work(actors)</c> of n:n actor calls: <paramref name="calls"/> calls spread round-robin over the actors.</summary>
    public static async Task<int> CallActors(ActorHandle<BenchActor>[] actors, int calls)
    {
        var refs = new ObjectRef<byte[]>[calls];
        for (var i = 0; i < calls; i++)
            refs[i] = actors[i % actors.Length].Call(a => a.SmallValue());
        await Ray.Current.GetAsync(refs);
        return 0;
    }
}

/// <summary>Ray's <c>Actor</c> (num_cpus=0): a no-op method, one with an argument, and a batch of nested tasks.</summary>
internal sealed class BenchActor
{
    public byte[] SmallValue() => "ok"u8.ToArray();

    /// <summary>Ray's <c>small_value_arg(x)</c>: the argument travels with the call and is not read.</summary>
    public byte[] SmallValueArg(ObjectRef<int> x) => x is null ? throw new ArgumentNullException(nameof(x)) : "ok"u8.ToArray();

    /// <summary>Ray's <c>small_value_batch(n)</c>: submits n <c>small_value</c> tasks and waits for them.</summary>
    public async Task<int> SmallValueBatch(int n)
    {
        var ray = Ray.Current;
        var refs = new ObjectRef<byte[]>[n];
        for (var i = 0; i < n; i++)
            refs[i] = ray.Task(RayWorkloads.SmallValue).Remote();
        await ray.GetAsync(refs);
        return 0;
    }
}

/// <summary>Ray's <c>Client</c> actor: calls the server actors from its own process.</summary>
internal sealed class BenchClient(ActorHandle<BenchActor>[] servers)
{
    /// <summary>n calls to each server, then waits for all.</summary>
    public async Task<int> SmallValueBatch(int n)
    {
        var refs = new List<ObjectRef<byte[]>>(n * servers.Length);
        foreach (var server in servers)
        {
            for (var i = 0; i < n; i++)
                refs.Add(server.Call(s => s.SmallValue()));
        }
        await Ray.Current.GetAsync(refs);
        return 0;
    }

    /// <summary>Puts a small value, then n calls to each server passing its ref, then waits for all.</summary>
    public async Task<int> SmallValueBatchArg(int n)
    {
        var ray = Ray.Current;
        var x = ray.Put(0);
        var refs = new List<ObjectRef<byte[]>>(n * servers.Length);
        foreach (var server in servers)
        {
            for (var i = 0; i < n; i++)
                refs.Add(server.Call(s => s.SmallValueArg(x)));
        }
        await ray.GetAsync(refs);
        return 0;
    }
}
