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
