using Grpc.Core;
using RaySharp.Control;

namespace RaySharp.Tests;

/// <summary>The node's gRPC control service and attaching drivers by its address.</summary>
public class ControlTests
{
    [Fact]
    public async Task Attaching_where_nothing_listens_says_so_and_what_to_do()
    {
        var path = Path.Combine(Path.GetTempPath(), $"raysharp-nothing-{Guid.NewGuid():N}.sock");
        var error = await Assert.ThrowsAsync<RaySystemException>(() => Ray.InitAsync(new RayOptions { Address = "unix:" + path }));
        Assert.Contains($"Nothing is listening at 'unix:{path}'", error.Message);
        Assert.Contains("raysharp start --head", error.Message);

        var tcp = await Assert.ThrowsAsync<RaySystemException>(() => Ray.InitAsync(new RayOptions { Address = "127.0.0.1:1" }));
        Assert.Contains("Nothing is listening at '127.0.0.1:1'", tcp.Message);

        var malformed = await Assert.ThrowsAsync<ArgumentException>(() => Ray.InitAsync(new RayOptions { Address = "somewhere" }));
        Assert.Contains("'somewhere' is not a RaySharp address", malformed.Message);
    }

    [Fact]
    public async Task Attaching_to_the_data_socket_instead_of_the_control_service_says_which_address_to_use()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1 });
        var data = Path.Combine(Path.GetDirectoryName(node.Address["unix:".Length..])!, "node.sock");
        var error = await Assert.ThrowsAsync<RaySystemException>(() => Ray.InitAsync(new RayOptions { Address = "unix:" + data }));
        Assert.Contains("not as a RaySharp control service", error.Message);
        Assert.Contains("control.sock", error.Message);
    }

    [Fact]
    public async Task A_driver_attaches_over_tcp_and_the_control_service_lists_finds_and_kills_its_actors()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = 0, Resources = new Dictionary<string, double> { ["GPU"] = 2 } });
        var tcp = node.ControlAddresses.Single(a => !a.StartsWith("unix:", StringComparison.Ordinal));
        Assert.StartsWith("127.0.0.1:", tcp);
        await using var ray = await Ray.InitAsync(new RayOptions { Address = tcp });
        Assert.Equal(tcp, ray.Address);
        var counter = ray.Actor(() => new Counter(3)).WithName("control-counter").Remote();
        Assert.Equal(4, await Within.Await(counter.Call(c => c.Add(1)).GetAsync(), "a call over the TCP-attached driver"));

        using var channel = ControlChannel.Open(node.Address);
        var control = new NodeControl.NodeControlClient(channel);
        var status = (await control.GetClusterStatusAsync(new ClusterStatusRequest())).Nodes.Single();
        Assert.Equal(2, status.Resources.Single(r => r.Name == "GPU").Total);
        Assert.Equal(1, status.Resources.Single(r => r.Name == "CPU").Total);
        Assert.Equal(1, status.ActorCount);
        Assert.Contains(status.Workers, w => w.Kind == "actor" && w.Pid > 0);

        var found = await control.GetNamedActorAsync(new NamedActorRequest { Name = "control-counter" });
        Assert.Equal("Alive", found.State);
        Assert.Equal(typeof(Counter).FullName, found.TypeName);
        Assert.Contains((await control.ListActorsAsync(new ListRequest())).Actors, a => a.ActorId == found.ActorId);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await control.GetNamedActorAsync(new NamedActorRequest { Name = "nobody" }));
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Contains("No live actor is named 'nobody'", missing.Status.Detail);

        var killed = await control.KillActorAsync(new KillActorRequest { Name = "control-counter" });
        Assert.Equal("Dead", killed.Actor.State);
        await Assert.ThrowsAsync<ActorDiedException>(async () => await counter.Call(c => c.Add(1)).GetAsync().AsTask().WaitAsync(Within.Timeout));
        var again = await Assert.ThrowsAsync<RpcException>(async () => await control.KillActorAsync(new KillActorRequest { Name = "control-counter" }));
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
        var noTarget = await Assert.ThrowsAsync<RpcException>(async () => await control.KillActorAsync(new KillActorRequest()));
        Assert.Equal(StatusCode.InvalidArgument, noTarget.StatusCode);
    }

    [Fact]
    public async Task Shutdown_stops_a_standalone_node_but_not_one_embedded_in_a_driver()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1 });
        using (var channel = ControlChannel.Open(node.Address))
        {
            var reply = await new NodeControl.NodeControlClient(channel).ShutdownAsync(new ShutdownRequest());
            Assert.Equal(Environment.ProcessId, reply.Pid);
        }
        await node.ShutdownRequested.WaitAsync(Within.Timeout);

        await using var embedded = await Ray.InitAsync(new RayOptions { NumCpus = 1 });
        using var embeddedChannel = ControlChannel.Open(embedded.Address!);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await new NodeControl.NodeControlClient(embeddedChannel).ShutdownAsync(new ShutdownRequest()));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("embedded in driver process", refused.Status.Detail);
        Assert.Equal(3, await Within.Await(embedded.Task(Work.Add, 1, 2).Remote().GetAsync(), "a task after the refused shutdown"));
    }

    [Fact]
    public async Task Timeline_events_of_actor_creations_calls_and_tasks_start_at_wall_clock_time_and_last_as_long_as_they_ran()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000.0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 1 });
        var counter = ray.Actor(() => new Counter(1)).Remote();
        Assert.Equal(2, await Within.Await(counter.Call(c => c.Add(1)).GetAsync(), "an actor call"));
        Assert.Equal(3, await Within.Await(ray.Task(Work.Add, 1, 2).Remote().GetAsync(), "a task"));
        var elapsedUs = clock.Elapsed.TotalMicroseconds;
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000.0 + 1000;

        using var trace = System.Text.Json.JsonDocument.Parse(await ray.TimelineAsync());
        var events = trace.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Select(e => (Name: e.GetProperty("name").GetString()!, Ts: e.GetProperty("ts").GetDouble(), Dur: e.GetProperty("dur").GetDouble())).ToList();
        Assert.Contains(events, e => e.Name == "new Counter");
        Assert.Contains(events, e => e.Name == "Counter.Add");
        Assert.Contains(events, e => e.Name == "Work.Add");
        Assert.All(events, e =>
        {
            Assert.InRange(e.Ts, before - 1000, after);
            Assert.InRange(e.Dur, 0, elapsedUs);
        });

        using var channel = ControlChannel.Open(ray.Address!);
        var timeline = await new NodeControl.NodeControlClient(channel).GetTimelineAsync(new TimelineRequest());
        Assert.Equal(events.Count, timeline.Events.Count);
        Assert.All(timeline.Events, e =>
        {
            Assert.InRange(e.StartUs, before - 1000, after);
            Assert.InRange(e.DurationUs, 0, elapsedUs);
        });
    }

    [Fact]
    public async Task StatusAsync_returns_the_nodes_resources_store_workers_and_counts_as_a_typed_record()
    {
        await using var ray = await Ray.InitAsync(new RayOptions { NumCpus = 2, ObjectStoreBytes = 32 << 20, Resources = new Dictionary<string, double> { ["GPU"] = 1 } });
        var holder = ray.Actor(() => new Counter(0)).WithOptions(new ActorOptions { NumCpus = 1, Resources = new Dictionary<string, double> { ["GPU"] = 1 } }).Remote();
        await Within.Await(holder.Call(c => c.Value()).GetAsync(), "the actor");
        var big = ray.Put(new float[1 << 20]);

        var node = (await ray.StatusAsync()).Nodes.Single();
        Assert.Equal(Environment.ProcessId, node.Pid);
        Assert.True(node.Embedded);
        Assert.Equal(ray.Address, node.ControlAddresses[0]);
        Assert.Equal(2, node.ResourcesTotal["CPU"]);
        Assert.Equal(1, node.ResourcesAvailable["CPU"]);
        Assert.Equal(1, node.ResourcesTotal["GPU"]);
        Assert.Equal(0, node.ResourcesAvailable["GPU"]);
        Assert.Equal(32 << 20, node.ObjectStore.CapacityBytes);
        Assert.Equal(1, node.ObjectStore.ObjectCount);
        Assert.True(node.ObjectStore.UsedBytes >= 4 << 20);
        Assert.Equal(1, node.ActorCount);
        Assert.Contains(node.Workers, w => w.Kind == "actor" && w.Pid > 0);
        Assert.Equal(2, node.Workers.Count(w => w.Kind == "task"));
        Assert.Equal(0, node.TaskCount);
        GC.KeepAlive(big);

        await using var attached = await Ray.InitAsync(new RayOptions { Address = ray.Address });
        var seen = (await attached.StatusAsync()).Nodes.Single();
        Assert.Equal(node.NodeId, seen.NodeId);
        Assert.Equal(1, seen.ActorCount);
        Assert.Equal(2, seen.JobCount);
    }

    [Fact]
    public async Task Node_options_set_by_an_attaching_driver_are_named_in_a_warning()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1 });
        using var logs = new CapturedLogs();
        await using (var quiet = await Ray.InitAsync(new RayOptions { Address = node.Address, LoggerFactory = logs }))
            Assert.Empty(logs.Warnings);
        await using var ray = await Ray.InitAsync(new RayOptions { Address = node.Address, NumCpus = 8, ObjectStoreBytes = 2L << 30, LoggerFactory = logs });
        var warning = Assert.Single(logs.Warnings);
        Assert.Contains("RayOptions NumCpus, ObjectStoreBytes do not apply when attaching to the running node at " + node.Address, warning);
        Assert.Equal(1, (await ray.StatusAsync()).Nodes.Single().ResourcesTotal["CPU"]);
    }

    [Fact]
    public async Task A_control_service_on_all_interfaces_lists_this_machines_reachable_addresses_not_loopback()
    {
        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = 0, ControlHost = "0.0.0.0" });
        var tcp = node.ControlAddresses.Skip(1).ToList();
        Assert.NotEmpty(tcp);
        Assert.DoesNotContain(tcp, a => a.StartsWith("127.", StringComparison.Ordinal));
        var port = tcp[0][(tcp[0].LastIndexOf(':') + 1)..];
        Assert.All(tcp, a => Assert.EndsWith(":" + port, a));
        await using var ray = await Ray.InitAsync(new RayOptions { Address = tcp[0] });
        Assert.Equal(3, await Within.Await(ray.Task(Work.Add, 1, 2).Remote().GetAsync(), "a task of a driver attached by the listed address"));
    }

    [Fact]
    public async Task A_control_port_that_is_taken_is_a_clear_error()
    {
        await using var first = await RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = 0 });
        var port = int.Parse(first.ControlAddresses[1].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        var error = await Assert.ThrowsAsync<RaySystemException>(() => RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = port }));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("Pick another port", error.Message);
    }
}

/// <summary>A logger factory that keeps what is logged (a real sink, for tests that check warnings).</summary>
internal sealed class CapturedLogs : Microsoft.Extensions.Logging.ILoggerFactory, Microsoft.Extensions.Logging.ILogger
{
    private readonly List<string> _warnings = [];

    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (_warnings)
                return [.. _warnings];
        }
    }

    public void AddProvider(Microsoft.Extensions.Logging.ILoggerProvider provider) => throw new NotSupportedException();

    public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel != Microsoft.Extensions.Logging.LogLevel.Warning)
            return;
        lock (_warnings)
            _warnings.Add(formatter(state, exception));
    }

    public void Dispose()
    {
    }
}
