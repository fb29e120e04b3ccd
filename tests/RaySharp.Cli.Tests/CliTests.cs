using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RaySharp.Control;
using RaySharp.TestPrograms;

namespace RaySharp.Cli.Tests;

/// <summary>The <c>raysharp</c> CLI on real processes: a daemon node, drivers submitted to it, inspection and stop.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("raysharp-cli-").FullName;

    [Fact]
    public async Task A_daemon_runs_submitted_drivers_shows_their_work_and_stops_without_leaving_processes()
    {
        var testStartUs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000.0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var start = await Programs.RaySharpAsync(_home, "start", "--head", "--num-cpus", "2", "--resources", "{\"GPU\": 1}", "--port", "0");
        Assert.True(start.ExitCode == 0, start.ToString());
        var address = start.Out.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("RAYSHARP_ADDRESS=", StringComparison.Ordinal))["RAYSHARP_ADDRESS=".Length..];
        Assert.StartsWith("unix:/", address);
        int nodePid;
        string tcp;
        using (var channel = ControlChannel.Open(address))
        {
            var info = await new NodeControl.NodeControlClient(channel).GetNodeInfoAsync(new NodeInfoRequest());
            nodePid = info.Pid;
            tcp = info.ControlAddresses.Single(a => !a.StartsWith("unix:", StringComparison.Ordinal));
            Assert.False(info.Embedded);
        }
        try
        {
            // status: the resources the node was started with, reached over the Unix socket and over TCP.
            var status = await Programs.RaySharpAsync(_home, "status");
            Assert.True(status.ExitCode == 0, status.ToString());
            Assert.Matches(@"│ CPU\s+│ 0\s+│ 2\s+│", status.Out);
            Assert.Matches(@"│ GPU\s+│ 0\s+│ 1\s+│", status.Out);
            Assert.Contains("object store:", status.Out);
            var overTcp = await Programs.RaySharpAsync(_home, "status", "--address", tcp);
            Assert.True(overTcp.ExitCode == 0, overTcp.ToString());
            Assert.Matches(@"│ GPU\s+│ 0\s+│ 1\s+│", overTcp.Out);

            // submit: the driver's output and exit code come back.
            var submitted = await Programs.RaySharpAsync(_home, "submit", "--", "dotnet", Programs.Driver, "tasks", "20", "7");
            Assert.True(submitted.ExitCode == 7, submitted.ToString());
            Assert.Contains("SUM=2470", submitted.Out);
            Assert.Contains($"ADDRESS={address}", submitted.Out);

            // A driver that keeps a named actor alive; list actors shows it, a second driver process calls it.
            using var holder = new Programs.Running(Programs.Start(_home, "submit", "--", "dotnet", Programs.Driver, "hold", "cli-counter", "10"));
            Assert.Equal("11", await holder.LineAsync("READY="));
            var actors = await Programs.RaySharpAsync(_home, "list", "actors");
            Assert.True(actors.ExitCode == 0, actors.ToString());
            Assert.Matches(@"│ cli-counter\s+│ RaySharp\.TestDriver\.Counter\s+│ Alive\s+│ 0\s+│ \d+\s+│ job\s+│", actors.Out);
            var call = await Programs.RaySharpAsync(_home, "submit", "--", "dotnet", Programs.Driver, "call", "cli-counter", "5");
            Assert.True(call.ExitCode == 0, call.ToString());
            Assert.Contains("RESULT=16", call.Out);

            // kill: a second named actor dies (its worker process with it); list shows it dead, killing it again fails clearly.
            using (var victimHolder = new Programs.Running(Programs.Start(_home, "submit", "--", "dotnet", Programs.Driver, "hold", "cli-victim", "0")))
            {
                Assert.Equal("1", await victimHolder.LineAsync("READY="));
                var kill = await Programs.RaySharpAsync(_home, "kill", "cli-victim");
                Assert.True(kill.ExitCode == 0, kill.ToString());
                var killed = Regex.Match(kill.Out, @"Killed actor cli-victim \(actor-[0-9a-f]+, RaySharp\.TestDriver\.Counter, pid (\d+)\): now Dead\.");
                Assert.True(killed.Success, kill.ToString());
                await Programs.Until(() => !Programs.IsAlive(int.Parse(killed.Groups[1].Value, CultureInfo.InvariantCulture)), "the killed actor's worker process is gone");
                var afterKill = await Programs.RaySharpAsync(_home, "list", "actors");
                Assert.Matches(@"│ cli-victim\s+│ RaySharp\.TestDriver\.Counter\s+│ Dead", afterKill.Out);
                Assert.Matches(@"│ cli-counter\s+│ RaySharp\.TestDriver\.Counter\s+│ Alive", afterKill.Out);
                var again = await Programs.RaySharpAsync(_home, "kill", "cli-victim");
                Assert.True(again.ExitCode == 1, again.ToString());
                Assert.Contains("No live actor is named 'cli-victim'", again.Err);
            }

            // timeline: valid Chrome-trace JSON with the executed tasks.
            var path = Path.Combine(_home, "timeline.json");
            var timeline = await Programs.RaySharpAsync(_home, "timeline", "-o", path);
            Assert.True(timeline.ExitCode == 0, timeline.ToString());
            using (var trace = JsonDocument.Parse(File.ReadAllText(path)))
            {
                var events = trace.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
                var squares = events.Where(e => e.GetProperty("name").GetString() == "Work.Square").ToList();
                Assert.Equal(20, squares.Count);
                Assert.All(squares, e => Assert.Equal("X", e.GetProperty("ph").GetString()));
                Assert.Contains(events, e => e.GetProperty("name").GetString() == "Counter.Add");
                Assert.Contains(events, e => e.GetProperty("name").GetString() == "cli-counter"); // a named actor's creation
                // Every event (actor creations included) starts at a wall-clock time within this test and lasts no longer than it.
                var nowUs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000.0 + 1000;
                Assert.All(events, e =>
                {
                    Assert.InRange(e.GetProperty("ts").GetDouble(), testStartUs - 1000, nowUs);
                    Assert.InRange(e.GetProperty("dur").GetDouble(), 0, clock.Elapsed.TotalMicroseconds);
                });
            }

            // stop: the node and every worker (the live job's too) are gone.
            int[] workerPids;
            using (var channel = ControlChannel.Open(address))
            {
                var live = await new NodeControl.NodeControlClient(channel).GetClusterStatusAsync(new ClusterStatusRequest());
                workerPids = [.. live.Nodes.Single().Workers.Select(w => w.Pid).Where(p => p > 0)];
            }
            Assert.NotEmpty(workerPids);
            var stop = await Programs.RaySharpAsync(_home, "stop");
            Assert.True(stop.ExitCode == 0, stop.ToString());
            Assert.False(Programs.IsAlive(nodePid), $"the node (pid {nodePid}) still runs after stop");
            await Programs.Until(() => !workerPids.Any(Programs.IsAlive), $"the workers ({string.Join(", ", workerPids)}) are gone after stop");
            Assert.Empty(Directory.GetFiles(_home, "head-*.json"));

            var after = await Programs.RaySharpAsync(_home, "status");
            Assert.Equal(1, after.ExitCode);
            Assert.Contains("No RaySharp node is running", after.Err);
        }
        finally
        {
            if (Programs.IsAlive(nodePid))
                System.Diagnostics.Process.GetProcessById(nodePid).Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task Status_with_nothing_running_says_so_and_fails()
    {
        var status = await Programs.RaySharpAsync(_home, "status");
        Assert.Equal(1, status.ExitCode);
        Assert.Contains("No RaySharp node is running: start one with 'raysharp start --head'", status.Err);

        var submit = await Programs.RaySharpAsync(_home, "submit", "--", "dotnet", Programs.Driver, "tasks", "1");
        Assert.Equal(1, submit.ExitCode);
        Assert.Contains("No RaySharp node is running", submit.Err);
    }

    [Fact]
    public async Task An_address_where_nothing_listens_gets_a_clear_message_and_fails()
    {
        var gone = Path.Combine(_home, "control.sock");
        var status = await Programs.RaySharpAsync(_home, "status", "--address", "unix:" + gone);
        Assert.Equal(1, status.ExitCode);
        Assert.Contains($"Nothing is listening at unix:{gone}", status.Err);

        var malformed = await Programs.RaySharpAsync(_home, "list", "tasks", "--address", "not an address");
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("is not a RaySharp address", malformed.Err);
    }

    [Fact]
    public async Task An_unknown_subcommand_is_rejected_with_the_list_of_commands()
    {
        var result = await Programs.RaySharpAsync(_home, "frobnicate");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Unrecognized command or argument 'frobnicate'", result.Err);

        var list = await Programs.RaySharpAsync(_home, "list", "nodes");
        Assert.Equal(2, list.ExitCode);
        Assert.Contains("'nodes' is not something to list: use tasks, actors or objects.", list.Err);
    }

    [Theory]
    [InlineData("{\"GPU\": 1", "--resources is not valid JSON")]
    [InlineData("{\"GPU\": -1}", "'GPU' must be a named, non-negative number")]
    [InlineData("[1, 2]", "is not NAME=AMOUNT")]
    [InlineData("GPU", "'GPU' is not NAME=AMOUNT")]
    public async Task Bad_resources_are_rejected_before_a_node_starts(string resources, string message)
    {
        var result = await Programs.RaySharpAsync(_home, "start", "--head", "--resources", resources);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Err);
        Assert.Empty(Directory.GetFiles(_home, "head-*.json"));
    }

    [Fact]
    public async Task A_detached_actor_outlives_the_submitted_driver_that_created_it()
    {
        var start = await Programs.RaySharpAsync(_home, "start", "--head", "--num-cpus", "1");
        Assert.True(start.ExitCode == 0, start.ToString());
        var creator = await Programs.RaySharpAsync(_home, "submit", "--", "dotnet", Programs.Driver, "detach", "cli-service", "10");
        Assert.True(creator.ExitCode == 0, creator.ToString());
        Assert.Contains("READY=11", creator.Out);

        var call = await Programs.RaySharpAsync(_home, "submit", "--", "dotnet", Programs.Driver, "call", "cli-service", "5");
        Assert.True(call.ExitCode == 0, call.ToString());
        Assert.Contains("RESULT=16", call.Out);
        var actors = await Programs.RaySharpAsync(_home, "list", "actors");
        Assert.Matches(@"│ cli-service\s+│ RaySharp\.TestDriver\.Counter\s+│ Alive\s+│ 0\s+│ \d+\s+│ detached\s+│", actors.Out);

        var stop = await Programs.RaySharpAsync(_home, "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
    }

    [Fact]
    public async Task Start_on_all_interfaces_prints_this_machines_addresses_not_loopback()
    {
        var start = await Programs.RaySharpAsync(_home, "start", "--head", "--num-cpus", "1", "--port", "0", "--host", "0.0.0.0");
        Assert.True(start.ExitCode == 0, start.ToString());
        try
        {
            var line = start.Out.Split('\n').Single(l => l.StartsWith("It listens on all interfaces", StringComparison.Ordinal));
            var match = Regex.Match(line, @"^It listens on all interfaces \(port (\d+)\): from other machines use (.+); on this one, also 127\.0\.0\.1:(\d+)\.");
            Assert.True(match.Success, start.ToString());
            Assert.Equal(match.Groups[1].Value, match.Groups[3].Value);
            var reachable = match.Groups[2].Value.Split(" or ");
            Assert.All(reachable, a =>
            {
                Assert.DoesNotContain("127.0.0.1", a);
                Assert.EndsWith(":" + match.Groups[1].Value, a);
            });
            var status = await Programs.RaySharpAsync(_home, "status", "--address", reachable[0]);
            Assert.True(status.ExitCode == 0, status.ToString());
        }
        finally
        {
            var stop = await Programs.RaySharpAsync(_home, "stop");
            Assert.True(stop.ExitCode == 0, stop.ToString());
        }
    }

    public void Dispose()
    {
        // A failed test may leave its node: stop it through the record it wrote.
        foreach (var record in Directory.GetFiles(_home, "head-*.json"))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(record));
                var pid = doc.RootElement.GetProperty("Pid").GetInt32();
                if (pid > 0 && Programs.IsAlive(pid))
                    System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is IOException or JsonException or ArgumentException or InvalidOperationException)
            {
                // Best effort.
            }
        }
        Directory.Delete(_home, recursive: true);
    }
}
