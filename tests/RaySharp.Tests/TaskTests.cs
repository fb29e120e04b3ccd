namespace RaySharp.Tests;

[Collection("cluster")]
public class TaskTests(ClusterFixture cluster)
{
    private Ray Ray => cluster.Ray;

    [Fact]
    public async Task A_task_result_is_returned_from_a_worker_process()
    {
        var pid = await Within.Await(Ray.Task(Work.Pid).Remote().GetAsync(), "Work.Pid");
        Assert.NotEqual(Environment.ProcessId, pid);
    }

    [Fact]
    public async Task Refs_passed_as_arguments_are_resolved_before_the_task_runs()
    {
        var a = Ray.Task(Work.Add, 1, 2).Remote();
        var b = Ray.Task(Work.Add, a, 10).Remote();
        var parts = Enumerable.Range(0, 10).Select(i => Ray.Put((long)i)).ToArray();
        var sum = Ray.Task(Work.Sum, parts).Remote();
        Assert.Equal(13, await Within.Await(b.GetAsync(), "Add(Add(1,2),10)"));
        Assert.Equal(45, await Within.Await(sum.GetAsync(), "Sum of ten puts"));
    }

    [Fact]
    public async Task Nested_tasks_that_block_in_get_do_not_deadlock_two_cpus()
    {
        var total = Ray.Task(Work.NestedSum, 1, 64).Remote();
        Assert.Equal(64 * 65 / 2, await Within.Await(total.GetAsync(), "a nested sum 64 leaves deep"));
    }

    [Fact]
    public async Task A_task_can_create_an_actor_and_call_it()
    {
        var result = Ray.Task(Work.UseActorInsideTask, 40).Remote();
        Assert.Equal(42, await Within.Await(result.GetAsync(), "a task that creates an actor"));
    }

    [Fact]
    public async Task Refs_inside_values_and_refs_returned_from_tasks_can_be_read()
    {
        var holder = new Holder([Ray.Put(1), Ray.Put(2), Ray.Task(Work.Add, 3, 4).Remote()]);
        Assert.Equal(10, await Within.Await(Ray.Task(Work.SumOfRefs, holder).Remote().GetAsync(), "a sum over refs inside a record"));
        ObjectRef<int> inner = await Within.Await(Ray.Task(Work.MakeRef, 99).Remote().GetAsync(), "a task returning a ref");
        Assert.Equal(99, await Within.Await(inner.GetAsync(), "the returned ref's value"));
    }

    [Fact]
    public async Task An_exception_propagates_through_dependent_tasks_with_its_remote_type_message_and_stack()
    {
        var failed = Ray.Task(Work.Fail, "bad input 7").Remote();
        var dependent = Ray.Task(Work.Twice, failed).Remote();
        var error = await Assert.ThrowsAsync<RayTaskException>(async () => await dependent.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Equal("System.InvalidOperationException", error.RemoteType);
        Assert.Equal("bad input 7", error.RemoteMessage);
        Assert.Contains(nameof(Work.Fail), error.RemoteStackTrace);
        Assert.Contains("Work.Fail", error.Message);
    }

    [Fact]
    public async Task Wait_splits_refs_into_ready_and_pending()
    {
        var fast = Ray.Task(Work.Add, 1, 1).Remote();
        var slow = Ray.Task(Work.Sleepy, 3_000).Remote();
        var (ready, pending) = await Within.Await(Ray.WaitAsync([fast, slow], numReturns: 1, timeout: TimeSpan.FromSeconds(30)), "Wait for one of two");
        Assert.Equal([fast], ready);
        Assert.Equal([slow], pending);
        Ray.Cancel(slow);
    }

    [Fact]
    public async Task Get_with_a_timeout_throws_GetTimeoutException_while_the_task_still_runs()
    {
        var slow = Ray.Task(Work.Sleepy, 5_000).Remote();
        var error = await Assert.ThrowsAsync<GetTimeoutException>(async () => await slow.GetAsync(TimeSpan.FromMilliseconds(100)));
        Assert.Contains(slow.Id.ToString(), error.Message);
        Ray.Cancel(slow);
    }

    [Fact]
    public async Task A_cancelled_running_task_reports_TaskCancelledException()
    {
        var slow = Ray.Task(Work.Sleepy, 30_000).Remote();
        await Within.Until(() => cluster.Ray.StatusAsync().AsTask().Result.Nodes.Single().Workers.Any(w => w.Running.Contains("Work.Sleepy")), "the task is running");
        Ray.Cancel(slow);
        await Assert.ThrowsAsync<TaskCancelledException>(async () => await slow.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Equal(3, await Within.Await(Ray.Task(Work.Add, 1, 2).Remote().GetAsync(), "a task after the cancel"));
    }

    [Fact]
    public async Task A_task_asking_for_more_resources_than_the_node_has_fails_as_unschedulable()
    {
        var greedy = Ray.Task(Work.Add, 1, 2).WithOptions(new TaskOptions { NumCpus = 64 }).Remote();
        var error = await Assert.ThrowsAsync<UnschedulableException>(async () => await greedy.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("Task 'Work.Add' is unschedulable: it asks for {CPU: 64", error.Message);
        Assert.Contains("Lower its TaskOptions resources", error.Message);
        var custom = Ray.Task(Work.Add, 1, 2).WithOptions(new TaskOptions { Resources = new Dictionary<string, double> { ["GPU"] = 1 } }).Remote();
        error = await Assert.ThrowsAsync<UnschedulableException>(async () => await custom.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("GPU: 1", error.Message);
    }

    [Fact]
    public async Task Many_small_tasks_all_complete_with_their_own_results()
    {
        var refs = Enumerable.Range(0, 2000).Select(i => Ray.Task(Work.Twice, i).Remote()).ToArray();
        var results = await Within.Await(Ray.GetAsync(refs), "2000 tasks");
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => 2 * i), results);
    }
}
