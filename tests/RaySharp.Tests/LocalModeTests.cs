namespace RaySharp.Tests;

public sealed class LocalModeTests : IAsyncLifetime
{
    private Ray _ray = null!;

    public async Task InitializeAsync() => _ray = await Ray.InitAsync(new RayOptions { LocalMode = true, NumCpus = 2 });

    public async Task DisposeAsync() => await _ray.DisposeAsync();

    [Fact]
    public async Task Local_mode_runs_tasks_in_this_process()
    {
        Assert.Null(_ray.Address);
        Assert.Equal(Environment.ProcessId, await Within.Await(_ray.Task(Work.Pid).Remote().GetAsync(), "Pid"));
    }

    [Fact]
    public async Task Local_mode_runs_nested_tasks_actors_and_errors_like_a_cluster()
    {
        Assert.Equal(32 * 33 / 2, await Within.Await(_ray.Task(Work.NestedSum, 1, 32).Remote().GetAsync(), "a nested sum"));
        Assert.Equal(7, await Within.Await(_ray.Task(Work.UseActorInsideTask, 5).Remote().GetAsync(), "an actor from a task"));
        var failed = _ray.Task(Work.Twice, _ray.Task(Work.Fail, "boom").Remote()).Remote();
        var error = await Assert.ThrowsAsync<RayTaskException>(async () => await failed.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Equal("boom", error.RemoteMessage);
    }

    [Fact]
    public async Task Tasks_queue_until_the_custom_resource_they_hold_is_free()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { LocalMode = true, NumCpus = 2, Resources = new Dictionary<string, double> { ["GPU"] = 1 } });
        var gpu = new TaskOptions { NumCpus = 0, Resources = new Dictionary<string, double> { ["GPU"] = 1 } };
        var runs = Enumerable.Range(0, 4).Select(_ => ray.Task(Exclusive.Enter, 50).WithOptions(gpu).Remote()).ToArray();
        var peaks = await Within.Await(ray.GetAsync(runs), "four tasks sharing one GPU");
        Assert.Equal(1, peaks.Max());
    }

    [Fact]
    public async Task A_pending_task_can_be_cancelled_before_it_runs()
    {
        var blockers = Enumerable.Range(0, 2).Select(_ => _ray.Task(Work.Sleepy, 2_000).Remote()).ToArray();
        var queued = _ray.Task(Work.Add, 1, 1).WithOptions(new TaskOptions { NumCpus = 2 }).Remote();
        _ray.Cancel(queued);
        await Assert.ThrowsAsync<TaskCancelledException>(async () => await queued.GetAsync().AsTask().WaitAsync(Within.Timeout));
        foreach (var b in blockers)
            _ray.Cancel(b);
    }
}

internal static class Exclusive
{
    private static int _inside;
    private static int _peak;

    /// <summary>Returns the most tasks seen inside at once (local mode: all tasks share these statics).</summary>
    public static int Enter(int ms)
    {
        var now = Interlocked.Increment(ref _inside);
        int peak;
        while ((peak = Volatile.Read(ref _peak)) < now && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
        {
        }
        Thread.Sleep(ms);
        Interlocked.Decrement(ref _inside);
        return Volatile.Read(ref _peak);
    }
}
