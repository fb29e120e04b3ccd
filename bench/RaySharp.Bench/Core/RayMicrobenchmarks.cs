using RaySharp;

namespace RaySharp.Bench.Core;

/// <summary>
/// Ray's microbenchmark set (python/ray/_private/ray_perf.py) under Ray's names, against the public API on
/// the embedded cluster (<c>Ray.InitAsync()</c>: node services here, worker processes). Each metric does
/// what Ray's does, with the same batch sizes where they fit this 2-core machine (smaller under
/// <c>--quick</c>), timed with the harness's warm-up + runs. A metric the runtime cannot run is not
/// recorded; a note says why.
/// </summary>
internal sealed class RayMicrobenchmarks(BenchReport report, bool quick, int runs)
{
    private const int Batch = 1000;

    /// <summary>Ray's <c>multiprocessing.cpu_count() // 2</c>: the number of server actors in the 1:n and n:n metrics.</summary>
    private static readonly int HalfCpus = Math.Max(1, Environment.ProcessorCount / 2);

    private TimeSpan Limit => TimeSpan.FromSeconds(quick ? 30 : 120);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var ray = await Ray.InitAsync(cancellationToken: cancellationToken);

        await Metric("single_client_tasks_sync", "tasks/s", quick ? 500 : 5_000, async ops =>
        {
            for (var i = 0; i < ops; i++)
                await ray.Task(RayWorkloads.SmallValue).Remote();
        });

        await Metric("single_client_tasks_async", "tasks/s", (quick ? 3 : 10) * Batch, async ops =>
        {
            for (var b = 0; b < ops / Batch; b++)
                await ray.GetAsync(SubmitSmallValues(ray, Batch));
        });

        await Metric("single_client_tasks_and_get_batch", "batches/s", quick ? 3 : 10, async ops =>
        {
            for (var b = 0; b < ops; b++)
                await ray.GetAsync(SubmitSmallValues(ray, Batch));
        });

        await WithActors(ray, 4, null, async actors =>
        {
            var n = quick ? 500 : 10_000;
            await Metric("multi_client_tasks_async", "tasks/s", n * actors.Length, async _ =>
                await ray.GetAsync(actors.Select(a => a.Call(x => x.SmallValueBatch(n))).ToArray()));
        });

        await WithActors(ray, 1, null, async actors =>
        {
            var actor = actors[0];
            await Metric("1_1_actor_calls_sync", "calls/s", quick ? 1_000 : 10_000, async ops =>
            {
                for (var i = 0; i < ops; i++)
                    await actor.Call(a => a.SmallValue());
            });
        });

        await WithActors(ray, 1, null, async actors =>
        {
            var actor = actors[0];
            await Metric("1_1_actor_calls_async", "calls/s", (quick ? 5 : 20) * Batch, async ops =>
            {
                for (var b = 0; b < ops / Batch; b++)
                    await ray.GetAsync(CallSmallValues(actor, Batch));
            });
        });

        await WithActors(ray, 1, 16, async actors =>
        {
            var actor = actors[0];
            await Metric("1_1_actor_calls_concurrent", "calls/s", (quick ? 5 : 20) * Batch, async ops =>
            {
                for (var b = 0; b < ops / Batch; b++)
                    await ray.GetAsync(CallSmallValues(actor, Batch));
            });
        });

        await WithActors(ray, HalfCpus, null, async servers =>
        {
            var client = ray.Actor(() => new BenchClient(servers)).Remote();
            var n = quick ? 1_000 : 5_000;
            await Metric("1_n_actor_calls_async", "calls/s", n * servers.Length, async _ =>
                await client.Call(c => c.SmallValueBatch(n)));
            ray.Kill(client);
        });

        await WithActors(ray, HalfCpus, null, async servers =>
        {
            const int m = 4;
            var n = quick ? 1_000 : 5_000;
            await Metric("n_n_actor_calls_async", "calls/s", m * n, async _ =>
                await ray.GetAsync(Enumerable.Range(0, m).Select(_ => ray.Task(RayWorkloads.CallActors, servers, n).Remote()).ToArray()));
        });

        await WithActors(ray, HalfCpus, null, async servers =>
        {
            var clients = servers.Select(s => ray.Actor(() => new BenchClient(new[] { s })).Remote()).ToArray();
            var n = quick ? 250 : 1_000;
            await Metric("n_n_actor_calls_with_arg_async", "calls/s", n * clients.Length, async _ =>
                await ray.GetAsync(clients.Select(c => c.Call(x => x.SmallValueBatchArg(n))).ToArray()));
            foreach (var client in clients)
                ray.Kill(client);
        });

        await Metric("single_client_put_calls", "puts/s", quick ? 20_000 : 100_000, ops =>
        {
            for (var i = 0; i < ops; i++)
                ray.Put(0);
            return Task.CompletedTask;
        });

        var small = ray.Put(0);
        await Metric("single_client_get_calls", "gets/s", quick ? 20_000 : 100_000, ops =>
        {
            for (var i = 0; i < ops; i++)
                small.Get();
            return Task.CompletedTask;
        });

        await Metric("multi_client_put_calls", "puts/s", 10 * 100, async _ =>
            await ray.GetAsync(Enumerable.Range(0, 10).Select(_ => ray.Task(RayWorkloads.PutSmall, 100).Remote()).ToArray()));

        await PutGigabytesAsync(ray, cancellationToken);
        await LargeArrayReturnAsync(ray);

        var containing = ray.Task(RayWorkloads.CreateObjectContainingRefs, 10_000).Remote();
        await Metric("single_client_get_object_containing_10k_refs", "gets/s", quick ? 5 : 20, async ops =>
        {
            for (var i = 0; i < ops; i++)
                await containing;
        });

        await Metric("single_client_wait_1k_refs", "waits of 1k/s", quick ? 1 : 3, async ops =>
        {
            for (var r = 0; r < ops; r++)
            {
                IReadOnlyList<ObjectRef<byte[]>> notReady = SubmitSmallValues(ray, Batch);
                for (var i = 0; i < Batch && notReady.Count > 0; i++)
                    notReady = (await ray.WaitAsync(notReady, numReturns: 1)).Pending;
            }
        });

        await MixedDurationWorkload.RunAsync(ray, report, quick, cancellationToken);
    }

    /// <summary>
    /// Ray puts an 800 MiB int64 array per call (<c>ray.put(arr)</c>, the ref dropped at once, which frees
    /// the object). Here each put is <c>using var r = ray.Put(array)</c>: the ref is disposed at the end of
    /// the iteration, which frees the object at once, so the next put reuses the same (already resident)
    /// store memory, as in Ray. The array is filled first, so the copy reads resident memory, as the memcpy
    /// reference does. Measured: bytes copied from the managed array into the store and sealed, per second,
    /// after a warm-up run (whose first put pays for the fresh store pages; see objstore_put_fresh_gbps).
    /// </summary>
    private async Task PutGigabytesAsync(Ray ray, CancellationToken cancellationToken)
    {
        var longs = quick ? 100 * 1024 * 1024 / 8 : 100 * 1024 * 1024;
        var puts = quick ? 8 : 4;
        var array = new long[longs];
        Array.Fill(array, 1L);
        var spillsBefore = await TotalSpillsAsync(ray, cancellationToken);
        await Metric("single_client_put_gigabytes", "GB/s", puts, longs * 8 / 1e9, ops =>
        {
            for (var i = 0; i < ops; i++)
            {
                using var stored = ray.Put(array);
            }
            return Task.CompletedTask;
        });
        var spills = await TotalSpillsAsync(ray, cancellationToken) - spillsBefore;
        report.Note($"single_client_put_gigabytes puts a {longs * 8 >> 20} MiB long[] per call, {puts} calls per run, each ref disposed after its put (Ray: 800 MiB, ref dropped); the store spilled {spills} objects meanwhile.");

        // The load on this shared machine changes within a run: copy the same array between managed arrays
        // right after the puts, so the note compares the put with a memcpy under the same conditions.
        var copy = new long[longs];
        copy.AsSpan().Fill(2L);
        var memcpy = Measure.Rate(runs, puts, () =>
        {
            for (var i = 0; i < puts; i++)
                array.AsSpan().CopyTo(copy);
        }).Select(r => r * longs * 8 / 1e9).Average();
        if (report.Metrics.Where(m => m.Name == "single_client_put_gigabytes").Select(m => m.Stat.Mean).FirstOrDefault() is > 0 and var put)
            report.Note($"single_client_put_gigabytes: a memcpy of the same array measured right after the puts ran at {memcpy:F2} GB/s; the put reached {put / memcpy:P0} of it.");
    }

    /// <summary>
    /// Not in Ray's set: a task returns a 100 MiB <c>float[]</c> (the worker fills it and writes it into the
    /// store: one copy) and the driver reads it, summing every element, either through <c>GetView</c> (in
    /// place, no copy) or <c>Get</c> (copied into a new managed array). GB/s of result, end to end.
    /// </summary>
    private async Task LargeArrayReturnAsync(Ray ray)
    {
        const int floats = 25 * 1024 * 1024;
        await Metric("large_array_return_view_gbps", "GB/s", 1, floats * 4 / 1e9, async _ =>
        {
            using var result = ray.Task(RayWorkloads.Floats, floats).Remote();
            using var view = await result.GetViewAsync();
            Check(Sum(view.Span), floats);
        });
        await Metric("large_array_return_get_gbps", "GB/s", 1, floats * 4 / 1e9, async _ =>
        {
            using var result = ray.Task(RayWorkloads.Floats, floats).Remote();
            Check(Sum(await result.GetAsync()), floats);
        });
        report.Note("large_array_return_view_gbps / _get_gbps: a task returns a 100 MiB float[], the driver sums it read in place (GetView) / copied out (Get).");

        static double Sum(ReadOnlySpan<float> values)
        {
            var sum = 0.0;
            foreach (var v in values)
                sum += v;
            return sum;
        }

        static void Check(double sum, int expected)
        {
            if (sum != expected)
                throw new InvalidOperationException($"The returned array sums to {sum}, not {expected}.");
        }
    }

    private static async Task<long> TotalSpillsAsync(Ray ray, CancellationToken cancellationToken)
    {
        var status = await ray.StatusAsync(cancellationToken);
        return status.Nodes.Sum(n => n.ObjectStore.TotalSpills);
    }

    private static ObjectRef<byte[]>[] SubmitSmallValues(Ray ray, int count)
    {
        var refs = new ObjectRef<byte[]>[count];
        for (var i = 0; i < count; i++)
            refs[i] = ray.Task(RayWorkloads.SmallValue).Remote();
        return refs;
    }

    private static ObjectRef<byte[]>[] CallSmallValues(ActorHandle<BenchActor> actor, int count)
    {
        var refs = new ObjectRef<byte[]>[count];
        for (var i = 0; i < count; i++)
            refs[i] = actor.Call(a => a.SmallValue());
        return refs;
    }

    private Task Metric(string name, string unit, long operations, Func<long, Task> work) => Metric(name, unit, operations, 1, work);

    /// <summary>
    /// Times <paramref name="work"/> (which performs <paramref name="operations"/> operations) with the
    /// harness's warm-up + runs, and records operations × <paramref name="multiplier"/> per second. A failure
    /// or a run past the limit is noted instead of recorded.
    /// </summary>
    private async Task Metric(string name, string unit, long operations, double multiplier, Func<long, Task> work)
    {
        try
        {
            var rates = await Measure.RateAsync(runs, operations, () => work(operations)).WaitAsync(Limit);
            report.Add(name, unit, [.. rates.Select(r => r * multiplier)]);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            report.Note($"{name} not measured: {(e is TimeoutException ? $"no result within {Limit.TotalSeconds:F0} s" : $"{e.GetType().Name}: {e.Message}")}");
        }
    }

    /// <summary>Creates <paramref name="count"/> <see cref="BenchActor"/>s (0 CPUs, as Ray's), runs <paramref name="body"/>, kills them.</summary>
    private async Task WithActors(Ray ray, int count, int? maxConcurrency, Func<ActorHandle<BenchActor>[], Task> body)
    {
        var actors = new ActorHandle<BenchActor>[count];
        for (var i = 0; i < count; i++)
        {
            var builder = ray.Actor(() => new BenchActor());
            actors[i] = (maxConcurrency is { } c ? builder.WithMaxConcurrency(c) : builder).Remote();
        }
        try
        {
            await body(actors);
        }
        finally
        {
            foreach (var actor in actors)
                ray.Kill(actor);
        }
    }
}
