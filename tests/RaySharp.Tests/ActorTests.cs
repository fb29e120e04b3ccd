namespace RaySharp.Tests;

[Collection("cluster")]
public class ActorTests(ClusterFixture cluster)
{
    private Ray Ray => cluster.Ray;

    [Fact]
    public async Task Actor_calls_from_one_caller_run_in_submission_order()
    {
        var counter = Ray.Actor(() => new Counter(0)).Remote();
        var calls = Enumerable.Range(1, 500).Select(i => counter.Call(c => c.Add(i))).ToArray();
        var values = await Within.Await(Ray.GetAsync(calls), "500 actor calls");
        var log = await Within.Await(counter.Call(c => c.Log()).GetAsync(), "the actor's log");
        Assert.Equal(Enumerable.Range(1, 500), log);
        Assert.Equal(500 * 501 / 2, values[^1]);
        Assert.NotEqual(Environment.ProcessId, await counter.Call(c => c.Pid()));
    }

    [Fact]
    public async Task An_async_actor_runs_up_to_MaxConcurrency_calls_at_once()
    {
        var actor = Ray.Actor(() => new Concurrent()).WithMaxConcurrency(4).Remote();
        var calls = Enumerable.Range(0, 8).Select(_ => actor.Call(a => a.EnterAsync())).ToArray();
        var peaks = await Within.Await(Ray.GetAsync(calls), "eight concurrent calls");
        Assert.Equal(4, peaks.Max());
    }

    [Fact]
    public async Task A_named_actor_is_found_by_a_second_driver_attached_by_address()
    {
        var original = Ray.Actor(() => new Counter(100)).WithName("shared-counter").Remote();
        await Within.Await(original.Call(c => c.Add(1)).GetAsync(), "the first call");
        await using var second = await Ray.InitAsync(new RayOptions { Address = Ray.Address });
        var found = await Within.Await(second.GetActorAsync<Counter>("shared-counter"), "the lookup");
        Assert.Equal(103, await Within.Await(found.Call(c => c.Add(2)).GetAsync(), "a call from the second driver"));
        Assert.Equal(4, await Within.Await(second.Task(Work.Add, 2, 2).Remote().GetAsync(), "a task from the second driver"));
        Ray.Kill(original);
    }

    [Fact]
    public async Task A_constructor_that_throws_makes_calls_fail_with_ActorDied_naming_the_cause()
    {
        var actor = Ray.Actor(() => new Exploding(5)).Remote();
        var error = await Assert.ThrowsAsync<ActorDiedException>(async () => await actor.Call(a => a.Value()).GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("constructor refuses", error.Message);
    }

    [Fact]
    public async Task A_killed_actor_fails_later_calls_with_ActorDied()
    {
        var counter = Ray.Actor(() => new Counter(0)).Remote();
        await Within.Await(counter.Call(c => c.Add(1)).GetAsync(), "a first call");
        Ray.Kill(counter);
        var error = await Assert.ThrowsAsync<ActorDiedException>(async () => await counter.Call(c => c.Add(1)).GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("killed", error.Message);
    }

    [Fact]
    public async Task An_actor_asking_for_more_resources_than_the_node_has_fails_as_unschedulable_like_a_task()
    {
        var greedy = Ray.Actor(() => new Counter(0)).WithOptions(new ActorOptions { Name = "greedy", NumCpus = 64 }).Remote();
        var first = await Assert.ThrowsAsync<UnschedulableException>(async () => await greedy.Call(c => c.Add(1)).GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("Actor 'greedy' (Counter) is unschedulable: it asks for {CPU: 64", first.Message);
        Assert.Contains("Lower its ActorOptions resources", first.Message);
        var later = await Assert.ThrowsAsync<UnschedulableException>(async () => await greedy.Call(c => c.Value()).GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("is unschedulable", later.Message);
        var task = await Assert.ThrowsAsync<UnschedulableException>(async () =>
            await Ray.Task(Work.Add, 1, 2).WithOptions(new TaskOptions { NumCpus = 64 }).Remote().GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Equal(first.Message[first.Message.IndexOf(" is unschedulable", StringComparison.Ordinal)..first.Message.IndexOf("Lower", StringComparison.Ordinal)],
            task.Message[task.Message.IndexOf(" is unschedulable", StringComparison.Ordinal)..task.Message.IndexOf("Lower", StringComparison.Ordinal)]);
    }

    [Fact]
    public async Task Void_and_async_methods_can_be_called()
    {
        var counter = Ray.Actor(() => new Counter(1)).Remote();
        Assert.Equal(3, await Within.Await(counter.Call(c => c.SlowAddAsync(2)).GetAsync(), "an async call"));
        Assert.Equal(3, await Within.Await(counter.Call(c => c.Value()).GetAsync(), "the value"));
    }
}
