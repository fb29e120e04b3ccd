using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace RaySharp.Cli;

/// <summary>The verbs. The running node is recorded in <c>/tmp/raysharp/head.json</c> (address and pid).</summary>
internal static class Commands
{
    private static readonly string HeadFile = Path.Combine(Path.GetTempPath(), "raysharp", "head.json");

    public static Command Start()
    {
        var head = new Option<bool>("--head") { Description = "Start a head node (the only kind on one machine for now)." };
        var cpus = new Option<int?>("--num-cpus") { Description = "CPUs the node offers (default: all)." };
        var resources = new Option<string?>("--resources") { Description = "Custom resources, e.g. GPU=1,fpga=2." };
        var store = new Option<long?>("--object-store-bytes") { Description = "Shared-memory object store capacity (default 1 GiB)." };
        var command = new Command("start", "Start a node in the background and print its address.") { head, cpus, resources, store };
        command.SetAction(async (result, cancel) =>
        {
            if (!result.GetValue(head))
            {
                AnsiConsole.MarkupLine("[red]Only 'raysharp start --head' exists so far: multi-node clusters are not built yet.[/]");
                return 2;
            }
            if (ReadHead() is { } running && IsAlive(running.Pid))
            {
                AnsiConsole.MarkupLine($"[yellow]A node is already running (pid {running.Pid}) at[/] {running.Address}. Stop it with 'raysharp stop'.");
                return 1;
            }
            var nodeArgs = new List<string> { "node" };
            if (result.GetValue(cpus) is { } n) nodeArgs.AddRange(["--num-cpus", n.ToString(CultureInfo.InvariantCulture)]);
            if (result.GetValue(resources) is { } r) nodeArgs.AddRange(["--resources", r]);
            if (result.GetValue(store) is { } s) nodeArgs.AddRange(["--object-store-bytes", s.ToString(CultureInfo.InvariantCulture)]);
            File.Delete(HeadFile);
            var log = Path.Combine(Path.GetTempPath(), "raysharp", "node.log");
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            var self = SelfCommand();
            var line = string.Join(' ', self.Concat(nodeArgs).Select(Quote));
            using (var shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"setsid {line} > {Quote(log)} 2>&1 < /dev/null &"]) { UseShellExecute = false }))
                await shell!.WaitForExitAsync(cancel);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (ReadHead() is null)
            {
                if (DateTime.UtcNow > deadline)
                {
                    AnsiConsole.MarkupLine($"[red]The node did not start within 30 s; see {log}.[/]");
                    return 1;
                }
                await Task.Delay(50, cancel);
            }
            var started = ReadHead()!;
            AnsiConsole.MarkupLine($"[green]Node started[/] (pid {started.Pid}). Attach drivers with:");
            Console.WriteLine($"  export RAYSHARP_ADDRESS={started.Address}");
            return 0;
        });
        return command;
    }

    /// <summary>The node process itself (started by <c>start</c>; runs until stopped).</summary>
    public static Command Node()
    {
        var cpus = new Option<int?>("--num-cpus");
        var resources = new Option<string?>("--resources");
        var store = new Option<long?>("--object-store-bytes");
        var command = new Command("node", "Run a node in the foreground (what 'start --head' runs in the background).") { cpus, resources, store };
        command.SetAction(async (result, cancel) =>
        {
            using var logging = Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
            var options = new RayOptions
            {
                LoggerFactory = logging,
                NumCpus = result.GetValue(cpus),
                Resources = ParseResources(result.GetValue(resources)),
                ObjectStoreBytes = result.GetValue(store) ?? 1L << 30,
            };
            await using var node = RayNode.Start(options);
            Directory.CreateDirectory(Path.GetDirectoryName(HeadFile)!);
            File.WriteAllText(HeadFile, JsonSerializer.Serialize(new HeadRecord(node.Address, Environment.ProcessId)));
            Console.WriteLine($"node listening at {node.Address}");
            var stop = new TaskCompletionSource();
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
            await stop.Task.WaitAsync(cancel);
            if (ReadHead()?.Pid == Environment.ProcessId)
                File.Delete(HeadFile);
            return 0;
        });
        return command;
    }

    public static Command Stop()
    {
        var command = new Command("stop", "Stop the running node and its workers.");
        command.SetAction(async (_, cancel) =>
        {
            if (ReadHead() is not { } head || !IsAlive(head.Pid))
            {
                AnsiConsole.MarkupLine("[yellow]No node is running.[/]");
                File.Delete(HeadFile);
                return 0;
            }
            using var process = Process.GetProcessById(head.Pid);
            Process.Start("kill", ["-TERM", head.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            try
            {
                await process.WaitForExitAsync(cancel).WaitAsync(TimeSpan.FromSeconds(15), cancel);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
            }
            File.Delete(HeadFile);
            AnsiConsole.MarkupLine($"[green]Stopped the node[/] (pid {head.Pid}).");
            return 0;
        });
        return command;
    }

    public static Command Status()
    {
        var command = new Command("status", "Show the node: resources, workers, object store.");
        command.SetAction(async (_, cancel) =>
        {
            using var status = await QueryAsync(timeline: false, cancel);
            if (status is null)
                return 1;
            Render.Status(status.RootElement);
            return 0;
        });
        return command;
    }

    public static Command List()
    {
        var what = new Argument<string>("what") { Description = "tasks, actors or objects" };
        var command = new Command("list", "List the node's tasks (queued/running), actors or objects.") { what };
        command.SetAction(async (result, cancel) =>
        {
            var kind = result.GetValue(what);
            if (kind is not ("tasks" or "actors" or "objects"))
            {
                AnsiConsole.MarkupLine($"[red]'{Markup.Escape(kind ?? "")}' is not something to list: use tasks, actors or objects.[/]");
                return 2;
            }
            using var status = await QueryAsync(timeline: false, cancel);
            if (status is null)
                return 1;
            Render.List(status.RootElement, kind);
            return 0;
        });
        return command;
    }

    public static Command Submit()
    {
        var commandLine = new Argument<string[]>("command") { Description = "The driver to run (after --), e.g. dotnet run --project app", Arity = ArgumentArity.OneOrMore };
        var command = new Command("submit", "Run a driver program attached to the running node (RAYSHARP_ADDRESS is set for it).") { commandLine };
        command.SetAction(async (result, cancel) =>
        {
            if (ReadHead() is not { } head || !IsAlive(head.Pid))
            {
                AnsiConsole.MarkupLine("[red]No node is running: start one with 'raysharp start --head'.[/]");
                return 1;
            }
            var argv = result.GetValue(commandLine)!;
            var start = new ProcessStartInfo(argv[0], argv.Skip(1)) { UseShellExecute = false };
            start.Environment["RAYSHARP_ADDRESS"] = head.Address;
            using var driver = Process.Start(start)!;
            await driver.WaitForExitAsync(cancel);
            return driver.ExitCode;
        });
        return command;
    }

    public static Command Timeline()
    {
        var output = new Option<string>("--output", "-o") { Description = "Where to write the Chrome-trace JSON.", DefaultValueFactory = _ => "timeline.json" };
        var command = new Command("timeline", "Write the executed tasks as Chrome-trace JSON (chrome://tracing, Perfetto).") { output };
        command.SetAction(async (result, cancel) =>
        {
            if (ReadHead() is not { } head || !IsAlive(head.Pid))
            {
                AnsiConsole.MarkupLine("[red]No node is running: start one with 'raysharp start --head'.[/]");
                return 1;
            }
            await using var ray = await Ray.InitAsync(new RayOptions { Address = head.Address }, cancel);
            var json = await ray.TimelineAsync(cancel);
            var path = result.GetValue(output)!;
            await File.WriteAllTextAsync(path, json, cancel);
            using var doc = JsonDocument.Parse(json);
            AnsiConsole.MarkupLine($"Wrote {doc.RootElement.GetProperty("traceEvents").GetArrayLength()} events to [bold]{Markup.Escape(path)}[/].");
            return 0;
        });
        return command;
    }

    private static async Task<JsonDocument?> QueryAsync(bool timeline, CancellationToken cancel)
    {
        if (ReadHead() is not { } head || !IsAlive(head.Pid))
        {
            AnsiConsole.MarkupLine("[red]No node is running: start one with 'raysharp start --head'.[/]");
            return null;
        }
        await using var ray = await Ray.InitAsync(new RayOptions { Address = head.Address }, cancel);
        return JsonDocument.Parse(timeline ? await ray.TimelineAsync(cancel) : await ray.StatusAsync(cancel));
    }

    private static Dictionary<string, double>? ParseResources(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var resources = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
                throw new ArgumentException($"'{part}' is not NAME=AMOUNT (e.g. GPU=1).");
            resources[pair[0]] = amount;
        }
        return resources;
    }

    private static string[] SelfCommand()
    {
        var path = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? [path, typeof(Commands).Assembly.Location]
            : [path];
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static HeadRecord? ReadHead()
    {
        try
        {
            return File.Exists(HeadFile) ? JsonSerializer.Deserialize<HeadRecord>(File.ReadAllText(HeadFile)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private sealed record HeadRecord(string Address, int Pid);
}
