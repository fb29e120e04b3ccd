using RaySharp.ObjectStore;

namespace RaySharp.Tests;

/// <summary>
/// Deterministic release: <c>ObjectRef.Dispose</c> drops a handle's reference at once (no GC), and what
/// still uses the object — a task that takes it as an argument — keeps it alive until it is done.
/// </summary>
public sealed class DisposeTests : IAsyncLifetime
{
    private const int Floats = 1 << 19; // 2 MiB: stored in the shared-memory store, not inline
    private Ray _ray = null!;

    public async Task InitializeAsync() => _ray = await Ray.InitAsync(new RayOptions { NumCpus = 2, ObjectStoreBytes = 64 << 20 });

    public async Task DisposeAsync() => await _ray.DisposeAsync();

    private SharedMemoryObjectStore<ObjectId> Store => _ray.OwnedHead!.ObjectStore;

    private static float[] Ones() => Enumerable.Repeat(1f, Floats).ToArray();

    [Fact]
    public void Disposing_the_only_ref_to_a_put_frees_it_from_the_store_at_once()
    {
        var objects = _ray.OwnedHead!.ObjectCount;
        var stored = _ray.Put(Ones());
        Assert.Equal(1, Store.GetStats().ObjectCount);
        Assert.Equal(objects + 1, _ray.OwnedHead.ObjectCount);

        stored.Dispose();

        Assert.Equal(0, Store.GetStats().ObjectCount);
        Assert.Equal(objects, _ray.OwnedHead.ObjectCount);
        GC.KeepAlive(stored);
    }

    [Fact]
    public void Puts_of_disposed_refs_reuse_the_same_store_memory()
    {
        for (var i = 0; i < 20; i++) // 40 MiB through a 64 MiB store: no spilling when each is freed
        {
            using var stored = _ray.Put(Ones());
        }
        var stats = Store.GetStats();
        Assert.Equal(0, stats.ObjectCount);
        Assert.Equal(0, stats.TotalSpills);
    }

    [Fact]
    public async Task Disposing_a_ref_twice_is_harmless()
    {
        var stored = _ray.Put(Ones());
        var task = _ray.Task(Big.Sum, stored.AsMemory()).Remote();
        using var other = _ray.Put(7);
        stored.Dispose();
        stored.Dispose();
        Assert.True(stored.IsDisposed);
        Assert.Equal((double)Floats, await Within.Await(task.GetAsync(), "a task over a twice-disposed ref"));
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the twice-disposed array to be freed once");
        Assert.Equal(7, other.Get(Within.Timeout)); // a double dispose takes nothing from other objects' counts
    }

    [Fact]
    public async Task Reading_a_disposed_ref_throws_an_error_naming_the_object()
    {
        var stored = _ray.Put(42);
        stored.Dispose();

        var error = Assert.Throws<ObjectDisposedException>(() => stored.Get());
        Assert.Contains(stored.Id.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("disposed", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await stored.GetAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await stored);
        Assert.Throws<ObjectDisposedException>(() => _ray.Get([stored]));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await _ray.WaitAsync([stored]));
        Assert.Throws<ObjectDisposedException>(() => _ray.Task(Work.Twice, stored).Remote());
        Assert.Equal(4, _ray.Task(Work.Twice, 2).Remote().Get(Within.Timeout));
    }

    [Fact]
    public async Task A_ref_disposed_while_a_queued_task_needs_it_stays_until_the_task_has_run()
    {
        var gate = _ray.Actor(() => new Gate()).WithMaxConcurrency(2).Remote();
        var opened = gate.Call(g => g.WaitAsync());
        var large = _ray.Put(Ones());
        var small = _ray.Put(5);
        var sum = _ray.Task(Gated.Sum, opened, large.AsMemory()).Remote();
        var twice = _ray.Task(Gated.Twice, opened, small).Remote();

        large.Dispose();
        small.Dispose();
        Assert.Equal(1, Store.GetStats().ObjectCount); // still pinned by the queued task

        await Within.Await(gate.Call(g => g.Open()).GetAsync(), "the gate to open");
        Assert.Equal((double)Floats, await Within.Await(sum.GetAsync(), "the sum over a disposed ref's array"));
        Assert.Equal(10, await Within.Await(twice.GetAsync(), "a task reading a disposed small ref"));
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the disposed array to be freed after its last task");
    }

    [Fact]
    public async Task A_task_refused_for_an_unknown_ref_leaves_the_counts_of_its_other_ref_arguments_alone()
    {
        ObjectRef<int> foreign;
        await using (var other = await Ray.InitAsync(new RayOptions { LocalMode = true, NumCpus = 1 }))
            foreign = other.Put(1); // a ref this cluster never knew
        var good = _ray.Put(5);
        var refused = _ray.Task(Gated.Twice, foreign, good).Remote();
        var error = await Assert.ThrowsAsync<ObjectLostException>(async () => await Within.Await(refused.GetAsync(), "the refused task's error"));
        Assert.Contains(foreign.Id.ToString(), error.Message, StringComparison.Ordinal);

        var gate = _ray.Actor(() => new Gate()).WithMaxConcurrency(2).Remote();
        var opened = gate.Call(g => g.WaitAsync());
        var twice = _ray.Task(Gated.Twice, opened, good).Remote();
        good.Dispose(); // the queued task alone keeps it now
        await Within.Await(gate.Call(g => g.Open()).GetAsync(), "the gate to open");
        Assert.Equal(10, await Within.Await(twice.GetAsync(), "the queued task reading the remaining ref"));
    }

    [Fact]
    public async Task A_task_result_disposed_before_it_arrives_is_freed_when_it_does()
    {
        var gate = _ray.Actor(() => new Gate()).WithMaxConcurrency(2).Remote();
        using (var ready = gate.Call(g => g.Ready()))
            await Within.Await(ready.GetAsync(), "the gate actor to start");
        var opened = gate.Call(g => g.WaitAsync());
        var objects = _ray.OwnedHead!.ObjectCount;
        var result = _ray.Task(Gated.Large, opened).Remote();
        Assert.Equal(objects + 1, _ray.OwnedHead.ObjectCount);
        result.Dispose();
        Assert.Equal(objects + 1, _ray.OwnedHead.ObjectCount); // pending: kept until the value arrives

        using (var open = gate.Call(g => g.Open()))
            await Within.Await(open.GetAsync(), "the gate to open");
        await Within.Until(() => _ray.OwnedHead.ObjectCount == objects && Store.GetStats().ObjectCount == 0,
            "the disposed large result to be freed once it arrived");
        GC.KeepAlive(opened);
    }
}

/// <summary>Remote functions that wait for a gate (an actor call) before they use their other argument.</summary>
internal static class Gated
{
    public static double Sum(int gate, ReadOnlyMemory<float> values) => Big.Sum(values) + gate;

    public static int Twice(int gate, int x) => gate + (2 * x);

    public static float[] Large(int gate) => Enumerable.Repeat((float)gate + 1, 1 << 19).ToArray();
}

/// <summary>An async actor whose WaitAsync completes when Open is called (no sleeping).</summary>
public sealed class Gate
{
    private readonly TaskCompletionSource<int> _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<int> WaitAsync() => _open.Task;

    public int Ready() => 0;

    public int Open()
    {
        _open.TrySetResult(0);
        return 0;
    }
}
