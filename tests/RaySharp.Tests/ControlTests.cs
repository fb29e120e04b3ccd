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
    public async Task A_control_port_that_is_taken_is_a_clear_error()
    {
        await using var first = await RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = 0 });
        var port = int.Parse(first.ControlAddresses[1].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        var error = await Assert.ThrowsAsync<RaySystemException>(() => RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = port }));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("Pick another port", error.Message);
    }
}
