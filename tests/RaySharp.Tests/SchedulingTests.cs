using RaySharp.Control;

namespace RaySharp.Tests;

/// <summary>
/// Remote functions that leave evidence in a folder: a marker file when they start (one line per run) and,
/// for the held ones, a release file the test writes when they may finish.
/// </summary>
internal static class Marked
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    /// <summary>Appends a line to <c>name.started</c>, then waits for <c>name.release</c>; returns the pid.</summary>
    public static int HoldUntilReleased(string folder, string name)
    {
        File.AppendAllText(Path.Combine(folder, name + ".started"), $"{Environment.ProcessId}\n");
        return WaitFor(Path.Combine(folder, name + ".release")) ? Environment.ProcessId : -1;
    }

    /// <summary>Writes <c>name.started</c>, then waits until <c>other.started</c> exists: true if both ran at the same time.</summary>
    public static bool MeetWhileRunning(string folder, string name, string other)
    {
        File.AppendAllText(Path.Combine(folder, name + ".started"), $"{Environment.ProcessId}\n");
        return WaitFor(Path.Combine(folder, other + ".started"));
    }

    /// <summary>Writes <c>name.started</c> and returns the pid.</summary>
    public static int Mark(string folder, string name)
    {
        File.AppendAllText(Path.Combine(folder, name + ".started"), $"{Environment.ProcessId}\n");
        return Environment.ProcessId;
    }

    private static bool WaitFor(string path)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline)
                return false;
            Thread.Sleep(5);
        }
        return true;
    }
}

/// <summary>A folder for one test's marker files, removed afterwards.</summary>
internal sealed class MarkerFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("raysharp-sched-").FullName;

    public bool Started(string name) => File.Exists(System.IO.Path.Combine(Path, name + ".started"));

    public int Starts(string name) => Started(name) ? File.ReadAllLines(System.IO.Path.Combine(Path, name + ".started")).Length : 0;

    public void Release(string name) => File.WriteAllText(System.IO.Path.Combine(Path, name + ".release"), "");

    public Task UntilStarted(string name) => Within.Until(() => Started(name), $"task '{name}' has started");

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>
/// Issue 13: no task waits in a worker's queue while a worker that could run it is idle; cancelling a task
/// queued on a worker means it never runs, and a forced cancel ends only the process running that task.
/// Real worker processes; evidence from marker files, never from wall-clock limits.
/// </summary>
public sealed class SchedulingTests
{
    [Fact]
    public async Task Two_tasks_on_two_cpus_run_at_the_same_time_even_when_the_second_worker_starts_late()
    {
        // An attached driver's job gets its workers on demand, one at a time: the first worker takes both
        // specs (the second is pipelined behind the first), and the second worker, once started, must take
        // the queued one back. Each task waits until the other has started, so they finish only if both ran
        // at once.
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 2 });
        await using var ray = await Ray.InitAsync(new RayOptions { Address = node.Address });
        using var folder = new MarkerFolder();
        var a = ray.Task(Marked.MeetWhileRunning, folder.Path, "a", "b").Remote();
        var b = ray.Task(Marked.MeetWhileRunning, folder.Path, "b", "a").Remote();
        Assert.True(await Within.Await(a.GetAsync(), "task a"), "task a never saw task b running beside it");
        Assert.True(await Within.Await(b.GetAsync(), "task b"), "task b never saw task a running beside it");
    }

    [Fact]
    public async Task A_short_task_submitted_while_a_long_and_a_medium_task_run_starts_when_the_medium_one_ends()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 2 });
        using var folder = new MarkerFolder();
        var longTask = ray.Task(Marked.HoldUntilReleased, folder.Path, "long").Remote();
        await folder.UntilStarted("long");
        var medium = ray.Task(Marked.HoldUntilReleased, folder.Path, "medium").Remote();
        await folder.UntilStarted("medium");

        var shortTask = ray.Task(Marked.Mark, folder.Path, "short").Remote(); // both CPUs busy: it waits in a worker's queue
        folder.Release("medium");
        var mediumPid = await Within.Await(medium.GetAsync(), "the medium task");
        var shortPid = await Within.Await(shortTask.GetAsync(), "the short task, with the long one still held");

        Assert.Equal(mediumPid, shortPid); // it ran on the worker the medium task freed
        folder.Release("long");
        Assert.NotEqual(-1, await Within.Await(longTask.GetAsync(), "the long task"));
    }

    [Fact]
    public async Task A_cancelled_task_queued_on_a_worker_never_runs_and_does_not_hold_the_worker()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 1 });
        using var folder = new MarkerFolder();
        var running = ray.Task(Marked.HoldUntilReleased, folder.Path, "running").Remote();
        await folder.UntilStarted("running");
        var queued = ray.Task(Marked.HoldUntilReleased, folder.Path, "queued").Remote();
        await Within.Until(() => StateOf(ray, queued) == "queued on worker", "the second task waits in the worker's queue");

        ray.Cancel(queued);
        await Assert.ThrowsAsync<TaskCancelledException>(async () => await queued.GetAsync().AsTask().WaitAsync(Within.Timeout));
        await Within.Until(() => QueuedOnWorkers(ray) == 0, "the worker has handed the cancelled task back");
        folder.Release("running");
        var pid = await Within.Await(running.GetAsync(), "the running task");
        var after = await Within.Await(ray.Task(Marked.Mark, folder.Path, "after").Remote().GetAsync(), "a task submitted after the cancel");

        Assert.Equal(pid, after); // the same (only) worker, free again
        Assert.False(folder.Started("queued"), "the cancelled task ran");
    }

    [Fact]
    public async Task A_forced_cancel_of_a_queued_task_leaves_the_running_task_on_that_worker_alone()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 1 });
        using var folder = new MarkerFolder();
        var innocent = ray.Task(Marked.HoldUntilReleased, folder.Path, "innocent").Remote();
        await folder.UntilStarted("innocent");
        var queued = ray.Task(Marked.HoldUntilReleased, folder.Path, "queued").Remote();
        await Within.Until(() => StateOf(ray, queued) == "queued on worker", "the second task waits in the worker's queue");

        ray.Cancel(queued, force: true);
        await Assert.ThrowsAsync<TaskCancelledException>(async () => await queued.GetAsync().AsTask().WaitAsync(Within.Timeout));
        await Within.Until(() => QueuedOnWorkers(ray) == 0, "the worker has handed the cancelled task back");
        folder.Release("innocent");
        var pid = await Within.Await(innocent.GetAsync(), "the running task (it must not be killed)");
        var after = await Within.Await(ray.Task(Work.Pid).Remote().GetAsync(), "a task after the cancel");

        Assert.Equal(1, folder.Starts("innocent")); // not killed and retried
        Assert.Equal(pid, after); // its worker process lives on
        Assert.False(folder.Started("queued"), "the cancelled task ran");
    }

    [Fact]
    public async Task A_forced_cancel_of_a_running_task_ends_its_process_only_and_its_queued_tasks_run_elsewhere_uncharged()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 2 });
        using var folder = new MarkerFolder();
        var target = ray.Task(Marked.HoldUntilReleased, folder.Path, "target").Remote();
        await folder.UntilStarted("target");
        var other = ray.Task(Marked.HoldUntilReleased, folder.Path, "other").Remote();
        await folder.UntilStarted("other");
        // Both CPUs busy: this one waits in the target's worker's queue (the first-leased worker takes ties).
        var queued = ray.Task(Marked.Mark, folder.Path, "queued").WithOptions(new TaskOptions { MaxRetries = 0 }).Remote();
        await Within.Until(() => StateOf(ray, queued) == "queued on worker", "the third task waits in a worker's queue");

        ray.Cancel(target, force: true);
        await Assert.ThrowsAsync<TaskCancelledException>(async () => await target.GetAsync().AsTask().WaitAsync(Within.Timeout));
        var queuedPid = await Within.Await(queued.GetAsync(), "the queued task (handed back before the kill, so not charged a retry)");
        folder.Release("other");
        var otherPid = await Within.Await(other.GetAsync(), "the other running task");

        Assert.Equal(1, folder.Starts("other"));
        Assert.Equal(1, folder.Starts("queued"));
        var targetPid = int.Parse(File.ReadAllText(Path.Combine(folder.Path, "target.started")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(targetPid, queuedPid);
        Assert.NotEqual(targetPid, otherPid);
        await Within.Until(() => !ProcessAlive(targetPid), "the target's worker process is gone");
        folder.Release("target");
    }

    [Fact]
    public async Task List_tasks_and_status_tell_queued_queued_on_worker_running_and_ended_tasks_apart()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 1 });
        using var folder = new MarkerFolder();
        var running = ray.Task(Marked.HoldUntilReleased, folder.Path, "running").Remote();
        await folder.UntilStarted("running");
        var onWorker = ray.Task(Marked.Mark, folder.Path, "on-worker").Remote();
        var waiting = ray.Task(Work.Add, onWorker, 1).Remote();
        // Another resource shape: no worker is leased for it and no CPU is free, so it stays in the node's queue.
        var inNode = ray.Task(Marked.Mark, folder.Path, "in-node").WithOptions(new TaskOptions { MemoryBytes = 1 }).Remote();

        using var channel = ControlChannel.Open(ray.Address!);
        var control = new NodeControl.NodeControlClient(channel);
        await Within.Until(() => StateOf(ray, onWorker) == "queued on worker", "the second task waits in the worker's queue");
        var tasks = (await control.ListTasksAsync(new ListRequest())).Tasks.ToDictionary(t => t.TaskId, t => t.State);
        Assert.Equal("running", tasks[running.Id.Task.ToString()]);
        Assert.Equal("queued on worker", tasks[onWorker.Id.Task.ToString()]);
        Assert.Equal("waiting for arguments", tasks[waiting.Id.Task.ToString()]);
        Assert.Equal("queued", tasks[inNode.Id.Task.ToString()]);

        var status = (await control.GetClusterStatusAsync(new ClusterStatusRequest())).Nodes.Single();
        Assert.Equal(new TaskCounts { WaitingForArguments = 1, Queued = 1, QueuedOnWorker = 1, Running = 1, Ended = 0 }, status.Tasks);
        var worker = status.Workers.Single(w => w.Kind == "task" && w.Running.Count > 0);
        Assert.Equal(["Marked.HoldUntilReleased"], worker.Running);
        Assert.Equal(["Marked.Mark"], worker.Queued);

        folder.Release("running");
        foreach (var task in new[] { running, onWorker, waiting, inNode })
            await Within.Await(task.GetAsync(), "the four tasks");
        tasks = (await control.ListTasksAsync(new ListRequest())).Tasks.ToDictionary(t => t.TaskId, t => t.State);
        Assert.All([running, onWorker, waiting, inNode], r => Assert.Equal("finished", tasks[r.Id.Task.ToString()]));
        Assert.Equal(4, (await control.GetClusterStatusAsync(new ClusterStatusRequest())).Nodes.Single().Tasks.Ended);
    }

    private static string? StateOf(Ray ray, ObjectRef task)
    {
        using var channel = ControlChannel.Open(ray.Address!);
        var list = new NodeControl.NodeControlClient(channel).ListTasks(new ListRequest());
        return list.Tasks.FirstOrDefault(t => t.TaskId == task.Id.Task.ToString())?.State;
    }

    /// <summary>Tasks sent to workers and not started, as the node counts them (a cancelled one until its worker hands it back).</summary>
    private static int QueuedOnWorkers(Ray ray)
    {
        using var channel = ControlChannel.Open(ray.Address!);
        var status = new NodeControl.NodeControlClient(channel).GetClusterStatus(new ClusterStatusRequest());
        return status.Nodes.Sum(n => n.Workers.Sum(w => w.Queued.Count));
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
