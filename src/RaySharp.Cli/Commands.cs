using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RaySharp.Control;
using Spectre.Console;

namespace RaySharp.Cli;

/// <summary>The verbs. Everything but <c>start</c>/<c>node</c>/<c>submit</c> is one gRPC call to the node's control service.</summary>
internal static class Commands
{
    private static Option<string?> AddressOption() => new("--address")
    {
        Description = "The node's control address (default: RAYSHARP_ADDRESS, else the node 'start --head' started; say which when several run).",
    };

    private static Option<int?> TargetPortOption() => new("--port")
    {
        Description = "The node serving this TCP control port (one started with 'start --head --port'), when several run.",
    };

    public static Command Start()
    {
        var head = new Option<bool>("--head") { Description = "Start a head node (several may run on one machine, each with its own address)." };
        var (cpus, resources, store, port, host) = NodeOptions();
        var command = new Command("start", "Start a node in the background and print its address.") { head, cpus, resources, store, port, host };
        command.SetAction(async (result, cancel) =>
        {
            if (!result.GetValue(head))
            {
                Session.Error("Only 'raysharp start --head' exists so far: multi-node clusters are not built yet.");
                return 2;
            }
            try
            {
                Session.ParseResources(result.GetValue(resources));
            }
            catch (FormatException e)
            {
                Session.Error(e.Message);
                return 2;
            }
            Session.RunningHeads(); // forgets the records of nodes that were killed
            var key = Session.NewKey();
            var nodeArgs = new List<string> { "node", "--record-key", key };
            if (result.GetValue(cpus) is { } n) nodeArgs.AddRange(["--num-cpus", n.ToString(CultureInfo.InvariantCulture)]);
            if (result.GetValue(resources) is { } r) nodeArgs.AddRange(["--resources", r]);
            if (result.GetValue(store) is { } s) nodeArgs.AddRange(["--object-store-bytes", s.ToString(CultureInfo.InvariantCulture)]);
            if (result.GetValue(port) is { } p) nodeArgs.AddRange(["--port", p.ToString(CultureInfo.InvariantCulture)]);
            if (result.GetValue(host) is { } h) nodeArgs.AddRange(["--host", h]);
            string log;
            try
            {
                log = Session.LogFile(key);
            }
            catch (RaySystemException e)
            {
                Session.Error(e.Message);
                return 1;
            }
            var line = string.Join(' ', SelfCommand().Concat(nodeArgs).Select(Quote));
            using (var shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"setsid {line} > {Quote(log)} 2>&1 < /dev/null &"]) { UseShellExecute = false }))
                await shell!.WaitForExitAsync(cancel);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HeadRecord? started;
            while ((started = Session.ReadHead(key)) is null)
            {
                if (DateTime.UtcNow > deadline)
                {
                    Session.Error($"The node did not start within 60 s; see {log}.");
                    return 1;
                }
                await Task.Delay(50, cancel);
            }
            if (started.Pid == 0)
            {
                Session.Error($"The node could not start: {started.Address}. See {log}.");
                Session.DeleteHead(key);
                return 1;
            }
            AnsiConsole.MarkupLine($"[green]Node started[/] (pid {started.Pid}); control service on {Markup.Escape(string.Join(" and ", started.Addresses))}.");
            if (result.GetValue(host) is "0.0.0.0" or "::" && started.Addresses.Length > 1)
            {
                var port = started.Addresses[1][(started.Addresses[1].LastIndexOf(':') + 1)..];
                Console.WriteLine($"It listens on all interfaces (port {port}): from other machines use {string.Join(" or ", started.Addresses.Skip(1))}; on this one, also 127.0.0.1:{port}.");
            }
            Console.WriteLine("Attach drivers with:");
            Console.WriteLine($"RAYSHARP_ADDRESS={started.Address}");
            return 0;
        });
        return command;
    }

    /// <summary>The node process itself (started by <c>start</c>; runs until stopped).</summary>
    public static Command Node()
    {
        var (cpus, resources, store, port, host) = NodeOptions();
        var recordKey = new Option<string?>("--record-key") { Description = "The name of this node's record in the runtime folder (default: its pid); 'start' passes one.", Hidden = true };
        var command = new Command("node", "Run a node in the foreground (what 'start --head' runs in the background).") { cpus, resources, store, port, host, recordKey };
        command.SetAction(async (result, cancel) =>
        {
            using var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var key = result.GetValue(recordKey) ?? Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            RayNode node;
            try
            {
                node = await RayNode.StartAsync(new RayOptions
                {
                    LoggerFactory = logging,
                    NumCpus = result.GetValue(cpus),
                    Resources = Session.ParseResources(result.GetValue(resources)),
                    ObjectStoreBytes = result.GetValue(store) ?? 1L << 30,
                    ControlPort = result.GetValue(port),
                    ControlHost = result.GetValue(host),
                }, cancel);
            }
            catch (Exception e) when (e is RaySystemException or ArgumentException or FormatException)
            {
                Console.Error.WriteLine(e.Message);
                TryWriteHead(key, new HeadRecord(e.Message, [], 0));
                return 1;
            }
            await using (node)
            {
                Session.WriteHead(key, new HeadRecord(node.Address, [.. node.ControlAddresses], Environment.ProcessId));
                Console.WriteLine($"node listening at {string.Join(", ", node.ControlAddresses)}");
                var signal = new TaskCompletionSource();
                using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; signal.TrySetResult(); });
                using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; signal.TrySetResult(); });
                await Task.WhenAny(signal.Task, node.ShutdownRequested).WaitAsync(cancel);
                Console.WriteLine("node stopping");
            }
            if (Session.ReadHead(key)?.Pid == Environment.ProcessId)
                Session.DeleteHead(key);
            return 0;
        });
        return command;
    }

    /// <summary>Records a node that could not start, so 'start' can say why; nothing when even the runtime folder is unusable (the log says).</summary>
    private static void TryWriteHead(string key, HeadRecord record)
    {
        try
        {
            Session.WriteHead(key, record);
        }
        catch (Exception e) when (e is RaySystemException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine(e.Message);
        }
    }

    public static Command Stop()
    {
        var address = AddressOption();
        var port = TargetPortOption();
        var command = new Command("stop", "Stop a node and its workers (say which with --address or --port when several run).") { address, port };
        command.SetAction(async (result, cancel) =>
        {
            if (result.GetValue(address) is null && result.GetValue(port) is null && Environment.GetEnvironmentVariable("RAYSHARP_ADDRESS") is not { Length: > 0 }
                && Session.RunningHeads().Count == 0)
            {
                AnsiConsole.MarkupLine("[yellow]No node is running.[/]");
                return 0;
            }
            if (Session.ResolveAddress(result.GetValue(address), result.GetValue(port)) is not { } target)
                return 1;
            var recorded = Session.HeadAt(target);
            var reply = await Session.CallAsync(target, (c, o) => c.ShutdownAsync(new ShutdownRequest(), o).ResponseAsync, cancel);
            var pid = reply?.Pid ?? recorded?.Head.Pid;
            if (reply is null && recorded is null)
                return 1;
            if (reply is null)
            {
                Session.Error($"The control service did not answer; sending SIGTERM to the node (pid {pid}).");
                Process.Start("kill", ["-TERM", pid!.Value.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            }
            if (!await Session.WaitForExitAsync(pid!.Value, TimeSpan.FromSeconds(30), cancel))
            {
                Session.Error($"The node (pid {pid}) did not stop within 30 s; killing it and its workers.");
                using var process = Process.GetProcessById(pid.Value);
                process.Kill(entireProcessTree: true);
            }
            if (recorded is { } r && Session.ReadHead(r.Key)?.Pid == pid)
                Session.DeleteHead(r.Key);
            AnsiConsole.MarkupLine($"[green]Stopped the node[/] (pid {pid}).");
            return 0;
        });
        return command;
    }

    public static Command Status()
    {
        var address = AddressOption();
        var port = TargetPortOption();
        var command = new Command("status", "Show the node: resources in use, object store usage, workers.") { address, port };
        command.SetAction(async (result, cancel) =>
        {
            if (Session.ResolveAddress(result.GetValue(address), result.GetValue(port)) is not { } target)
                return 1;
            var status = await Session.CallAsync(target, (c, o) => c.GetClusterStatusAsync(new ClusterStatusRequest(), o).ResponseAsync, cancel);
            if (status is null)
                return 1;
            Render.Status(status);
            return 0;
        });
        return command;
    }

    public static Command List()
    {
        var what = new Argument<string>("what") { Description = "tasks, actors or objects" };
        var limit = new Option<int>("--limit") { Description = "Most rows to show.", DefaultValueFactory = _ => 1000 };
        var address = AddressOption();
        var port = TargetPortOption();
        var command = new Command("list", "List the node's tasks (waiting, queued, queued on a worker, running, then the last ones that ended), actors or objects.") { what, limit, address, port };
        command.SetAction(async (result, cancel) =>
        {
            var kind = result.GetValue(what);
            if (kind is not ("tasks" or "actors" or "objects"))
            {
                Session.Error($"'{kind}' is not something to list: use tasks, actors or objects.");
                return 2;
            }
            if (Session.ResolveAddress(result.GetValue(address), result.GetValue(port)) is not { } target)
                return 1;
            var request = new ListRequest { Limit = Math.Max(1, result.GetValue(limit)) };
            switch (kind)
            {
                case "tasks":
                    if (await Session.CallAsync(target, (c, o) => c.ListTasksAsync(request, o).ResponseAsync, cancel) is not { } tasks)
                        return 1;
                    Render.Tasks(tasks);
                    break;
                case "actors":
                    if (await Session.CallAsync(target, (c, o) => c.ListActorsAsync(request, o).ResponseAsync, cancel) is not { } actors)
                        return 1;
                    Render.Actors(actors);
                    break;
                default:
                    if (await Session.CallAsync(target, (c, o) => c.ListObjectsAsync(request, o).ResponseAsync, cancel) is not { } objects)
                        return 1;
                    Render.Objects(objects);
                    break;
            }
            return 0;
        });
        return command;
    }

    public static Command Kill()
    {
        var actor = new Argument<string>("actor") { Description = "The actor's name, or its id (as 'list actors' prints it) with --id." };
        var byId = new Option<bool>("--id") { Description = "The argument is an actor id, not a name." };
        var restart = new Option<bool>("--restart") { Description = "Restart it if it has restarts left (default: it stays dead)." };
        var address = AddressOption();
        var port = TargetPortOption();
        var command = new Command("kill", "Kill an actor: its worker process is stopped at once and calls on it fail.") { actor, byId, restart, address, port };
        command.SetAction(async (result, cancel) =>
        {
            if (Session.ResolveAddress(result.GetValue(address), result.GetValue(port)) is not { } target)
                return 1;
            var request = new KillActorRequest { AllowRestart = result.GetValue(restart) };
            if (result.GetValue(byId))
                request.ActorId = result.GetValue(actor)!;
            else
                request.Name = result.GetValue(actor)!;
            if (await Session.CallAsync(target, (c, o) => c.KillActorAsync(request, o).ResponseAsync, cancel) is not { } reply)
                return 1;
            var killed = reply.Actor;
            Console.WriteLine($"Killed actor {(killed.Name.Length > 0 ? killed.Name + " " : "")}({killed.ActorId}, {killed.TypeName}, pid {killed.Pid}): now {killed.State}.");
            return 0;
        });
        return command;
    }

    public static Command Submit()
    {
        var commandLine = new Argument<string[]>("command") { Description = "The driver to run (after --), e.g. dotnet run --project app", Arity = ArgumentArity.OneOrMore };
        var address = AddressOption();
        var port = TargetPortOption();
        var command = new Command("submit", "Run a driver program attached to the node (RAYSHARP_ADDRESS is set for it); exits with its exit code.") { commandLine, address, port };
        command.SetAction(async (result, cancel) =>
        {
            if (Session.ResolveAddress(result.GetValue(address), result.GetValue(port)) is not { } target)
                return 1;
            if (await Session.CallAsync(target, (c, o) => c.GetNodeInfoAsync(new NodeInfoRequest(), o).ResponseAsync, cancel) is null)
                return 1;
            var argv = result.GetValue(commandLine)!;
            var start = new ProcessStartInfo(argv[0], argv.Skip(1)) { UseShellExecute = false };
            start.Environment["RAYSHARP_ADDRESS"] = target;
            Process driver;
            try
            {
                driver = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                Session.Error($"Could not start '{argv[0]}': {e.Message}.");
                return 127;
            }
            using (driver)
            {
                await driver.WaitForExitAsync(cancel);
                return driver.ExitCode;
            }
        });
        return command;
    }

    public static Command Timeline()
    {
        var output = new Option<string>("--output", "-o") { Description = "Where to write the Chrome-trace JSON.", DefaultValueFactory = _ => "timeline.json" };
        var address = AddressOption();
        var port = TargetPortOption();
        var command = new Command("timeline", "Write the executed tasks as Chrome-trace JSON (chrome://tracing, Perfetto).") { output, address, port };
        command.SetAction(async (result, cancel) =>
        {
            if (Session.ResolveAddress(result.GetValue(address), result.GetValue(port)) is not { } target)
                return 1;
            var timeline = await Session.CallAsync(target, (c, o) => c.GetTimelineAsync(new TimelineRequest(), o).ResponseAsync, cancel);
            if (timeline is null)
                return 1;
            var path = result.GetValue(output)!;
            await File.WriteAllTextAsync(path, Render.ChromeTrace(timeline), cancel);
            AnsiConsole.MarkupLine($"Wrote {timeline.Events.Count} events to [bold]{Markup.Escape(path)}[/].");
            return 0;
        });
        return command;
    }

    private static (Option<int?> Cpus, Option<string?> Resources, Option<long?> Store, Option<int?> Port, Option<string?> Host) NodeOptions() => (
        new Option<int?>("--num-cpus") { Description = "CPUs the node offers (default: all)." },
        new Option<string?>("--resources") { Description = "Custom resources: '{\"GPU\": 1}' (JSON) or GPU=1,fpga=2." },
        new Option<long?>("--object-store-bytes") { Description = "Shared-memory object store capacity (default 1 GiB)." },
        new Option<int?>("--port") { Description = "Also serve the control service on this TCP port (0: any free one)." },
        new Option<string?>("--host") { Description = "The address the TCP control service binds (default 127.0.0.1; 0.0.0.0 for all)." });

    private static string[] SelfCommand()
    {
        var path = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? [path, typeof(Commands).Assembly.Location]
            : [path];
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
