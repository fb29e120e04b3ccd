using System.Text.Json;
using RaySharp.TestPrograms;

namespace RaySharp.Tests;

/// <summary>A standalone node (what <c>raysharp start --head</c> runs) with drivers that attach by address.</summary>
public class NodeTests
{
    [Fact]
    public async Task Drivers_attached_to_a_standalone_node_get_workers_for_their_job_and_their_actors_end_with_them()
    {
        await using var node = RayNode.Start(new RayOptions { NumCpus = 2 });
        var first = await Ray.InitAsync(new RayOptions { Address = node.Address });
        var counter = first.Actor(() => new Counter(1)).WithName("job-scoped").Remote();
        Assert.Equal(2, await Within.Await(counter.Call(c => c.Add(1)).GetAsync(), "a call from the first driver"));
        Assert.Equal(9, await Within.Await(first.Task(Work.Add, 4, 5).Remote().GetAsync(), "a task of the first driver"));

        await using (var second = await Ray.InitAsync(new RayOptions { Address = node.Address }))
        {
            var found = await Within.Await(second.GetActorAsync<Counter>("job-scoped"), "the lookup from the second driver");
            Assert.Equal(4, await Within.Await(found.Call(c => c.Add(2)).GetAsync(), "a call from the second driver"));
            var timeline = JsonDocument.Parse(await second.TimelineAsync());
            Assert.Contains(timeline.RootElement.GetProperty("traceEvents").EnumerateArray(), e => e.GetProperty("name").GetString() == "Work.Add");
        }

        await first.DisposeAsync();
        await using var third = await Ray.InitAsync(new RayOptions { Address = node.Address });
        await Within.Until(() => third.StatusAsync().AsTask().Result.Nodes.Single().ActorCount == 0, "the first driver's actor to end with its job");
        var gone = await Assert.ThrowsAsync<ArgumentException>(async () => await third.GetActorAsync<Counter>("job-scoped"));
        Assert.Contains("No live actor", gone.Message);
    }
}

/// <summary>The per-user runtime folder that holds session folders.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class RuntimeFolderTests
{
    [Fact]
    public async Task Sessions_live_in_a_private_per_user_folder_and_a_dead_drivers_session_is_removed_at_the_next_start()
    {
        var root = RayNode.RuntimeDirectory;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root));
        int deadPid;
        using (var gone = System.Diagnostics.Process.Start("true")!)
        {
            await gone.WaitForExitAsync();
            deadPid = gone.Id;
        }
        var stale = Path.Combine(root, $"session-{deadPid}-0000beef");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "node.sock"), "");

        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 1 });
        Assert.StartsWith($"unix:{root}/session-{Environment.ProcessId}-", ray.Address);
        Assert.False(Directory.Exists(stale), $"the session folder of dead process {deadPid} is still there");
    }
}

/// <summary>Detached actors: they outlive the driver that created them, on a standalone node.</summary>
public class DetachedActorTests
{
    [Fact]
    public async Task A_detached_named_actor_outlives_its_creator_and_a_later_driver_calls_it_until_it_is_killed()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1 });
        await using (var creator = await Ray.InitAsync(new RayOptions { Address = node.Address }))
        {
            var service = creator.Actor(() => new Counter(10)).WithName("detached-service").WithLifetime(ActorLifetime.Detached).Remote();
            var scoped = creator.Actor(() => new Counter(0)).WithName("job-scoped-beside-it").Remote();
            Assert.Equal(11, await Within.Await(service.Call(c => c.Add(1)).GetAsync(), "a call from the creator"));
            Assert.Equal(0, await Within.Await(scoped.Call(c => c.Value()).GetAsync(), "the job-scoped actor"));
        }

        await using var later = await Ray.InitAsync(new RayOptions { Address = node.Address });
        await Within.Until(() => later.StatusAsync().AsTask().Result.Nodes.Single().ActorCount == 1, "the creator's job-scoped actor to end with its job");
        var gone = await Assert.ThrowsAsync<ArgumentException>(async () => await later.GetActorAsync<Counter>("job-scoped-beside-it"));
        Assert.Contains("No live actor", gone.Message);

        var found = await Within.Await(later.GetActorAsync<Counter>("detached-service"), "the lookup of the detached actor");
        Assert.Equal(13, await Within.Await(found.Call(c => c.Add(2)).GetAsync(), "a call from the later driver"));
        Assert.Equal(13, await Within.Await(later.Task(Work.Add, 6, 7).Remote().GetAsync(), "a task of the later driver"));
        using (var channel = RaySharp.Control.ControlChannel.Open(node.Address))
        {
            var listed = await new RaySharp.Control.NodeControl.NodeControlClient(channel).ListActorsAsync(new RaySharp.Control.ListRequest());
            Assert.True(listed.Actors.Single(a => a.Name == "detached-service").Detached);
            Assert.False(listed.Actors.Single(a => a.Name == "job-scoped-beside-it").Detached);
        }

        later.Kill(found);
        await Assert.ThrowsAsync<ActorDiedException>(async () => await found.Call(c => c.Add(1)).GetAsync().AsTask().WaitAsync(Within.Timeout));
        var killed = await Assert.ThrowsAsync<ArgumentException>(async () => await later.GetActorAsync<Counter>("detached-service"));
        Assert.Contains("No live actor", killed.Message);
    }

    [Fact]
    public void The_default_lifetime_is_job_scoped_and_an_undefined_one_is_refused()
    {
        Assert.Equal(ActorLifetime.JobScoped, new ActorOptions().Lifetime);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActorBuilder<Counter>(null!, () => new Counter(0)).WithLifetime((ActorLifetime)7));
    }
}

/// <summary>Drivers in separate processes attached to one node by its address.</summary>
public class MultiDriverTests
{
    [Fact]
    public async Task A_second_driver_process_attached_by_address_finds_and_calls_a_named_actor()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 2 });
        using var first = new Programs.Running(Programs.StartDriver(node.Address, "hold", "shared-across-drivers", "40"));
        Assert.Equal("41", await first.LineAsync("READY="));

        using (var second = new Programs.Running(Programs.StartDriver(node.Address, "call", "shared-across-drivers", "2")))
        {
            var result = await second.ExitAsync("the second driver to call the actor and exit");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("RESULT=43", result.Out);
        }

        first.Process.StandardInput.Close();
        var released = await first.ExitAsync("the first driver to exit once its stdin closed");
        Assert.True(released.ExitCode == 0, released.ToString());
        Assert.Contains("RELEASED", released.Out);

        // The first driver's job ended, and its actor with it: a third driver no longer finds the name.
        using var third = new Programs.Running(Programs.StartDriver(node.Address, "call", "shared-across-drivers", "1"));
        var missing = await third.ExitAsync("the third driver to fail its lookup");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("No live actor is named 'shared-across-drivers'", missing.Err);
    }
}
