using System.Diagnostics;
using System.Globalization;

namespace RaySharp.Tests;

[Collection("cluster")]
public sealed class FaultToleranceTests(ClusterFixture cluster) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("raysharp-ft-").FullName;

    private Ray Ray => cluster.Ray;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<int> KillWhenWritten(string marker)
    {
        await Within.Until(() => File.Exists(marker) && File.ReadAllText(marker).Length > 0, $"a pid in {marker}");
        var pid = int.Parse(File.ReadAllText(marker), CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        return pid;
    }

    [Fact]
    public async Task A_task_whose_worker_is_killed_mid_run_is_retried_on_a_new_worker()
    {
        var marker = Path.Combine(_directory, "retry");
        var result = Ray.Task(Work.HangOnFirstRun, marker).Remote();
        var killed = await KillWhenWritten(marker);
        var retriedOn = await Within.Await(result.GetAsync(), "the retried task");
        Assert.NotEqual(killed, retriedOn);
        Assert.NotEqual(-1, retriedOn);
    }

    [Fact]
    public async Task A_task_without_retries_whose_worker_is_killed_fails_with_WorkerCrashed()
    {
        var marker = Path.Combine(_directory, "crash");
        var result = Ray.Task(Work.Hang, marker).WithOptions(new TaskOptions { MaxRetries = 0 }).Remote();
        var killed = await KillWhenWritten(marker);
        var error = await Assert.ThrowsAsync<WorkerCrashedException>(async () => await result.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains($"pid {killed}", error.Message);
        Assert.Contains("MaxRetries = 0", error.Message);
        Assert.Equal(5, await Within.Await(Ray.Task(Work.Add, 2, 3).Remote().GetAsync(), "a task after the crash"));
    }

    [Fact]
    public async Task An_actor_restarts_after_its_process_is_killed_and_in_flight_calls_fail_with_ActorDied()
    {
        var marker = Path.Combine(_directory, "actor");
        var counter = Ray.Actor(() => new Counter(10)).WithMaxRestarts(1).Remote();
        Assert.Equal(15, await Within.Await(counter.Call(c => c.Add(5)).GetAsync(), "a call before the kill"));
        var inFlight = counter.Call(c => c.HangAndWritePid(marker));
        var killed = await KillWhenWritten(marker);
        var error = await Assert.ThrowsAsync<ActorDiedException>(async () => await inFlight.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("restart 1 of 1", error.Message);
        // The constructor ran again: state starts over at 10.
        Assert.Equal(11, await Within.Await(counter.Call(c => c.Add(1)).GetAsync(), "a call after the restart"));
        Assert.NotEqual(killed, await Within.Await(counter.Call(c => c.Pid()).GetAsync(), "the new pid"));

        var second = Path.Combine(_directory, "actor2");
        var lastCall = counter.Call(c => c.HangAndWritePid(second));
        await KillWhenWritten(second);
        await Assert.ThrowsAsync<ActorDiedException>(async () => await lastCall.GetAsync().AsTask().WaitAsync(Within.Timeout));
        var dead = await Assert.ThrowsAsync<ActorDiedException>(async () => await counter.Call(c => c.Value()).GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("dead", dead.Message);
    }
}
