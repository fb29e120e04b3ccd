using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using RaySharp.Protocol;

namespace RaySharp.Runtime.Node;

/// <summary>A worker in this process (local mode): an <see cref="Executor"/> fed directly.</summary>
internal sealed class InProcessWorkerLink : IWorkerLink
{
    private readonly Head _head;
    private readonly WorkerHandle _worker;
    private readonly Executor _executor;

    public InProcessWorkerLink(Head head, WorkerHandle worker, Ray ray)
    {
        _head = head;
        _worker = worker;
        _executor = new Executor(ray, head.Store, message => head.OnWorkerMessage(worker, message));
    }

    public int Pid => Environment.ProcessId;

    /// <summary>
    /// Specs are queued at once; steals and cancels are answered on the thread pool, because the node
    /// sends them under its lock and their answer takes that lock again.
    /// </summary>
    public void Send(Message message)
    {
        if (message is Execute)
            _executor.Receive(message);
        else
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Executor.Receive(state.Message), (Executor: _executor, Message: message), preferLocal: false);
    }

    public void Kill()
    {
        _executor.Dispose();
        ThreadPool.UnsafeQueueUserWorkItem(_ => _head.OnWorkerDied(_worker, "it was stopped"), null);
    }
}

/// <summary>A worker process connected over the node socket.</summary>
internal sealed class RemoteWorkerLink(Protocol.Connection connection, int pid) : IWorkerLink
{
    public int Pid { get; } = pid;

    public void Send(Message message) => connection.Send(message);

    public void Kill()
    {
        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }
}

/// <summary>
/// Starts worker processes: <c>dotnet exec --runtimeconfig &lt;app&gt;.runtimeconfig.json --depsfile
/// &lt;app&gt;.deps.json RaySharp.Worker.dll</c> in the application's own folder, so workers load the job's
/// assemblies exactly as the driver does.
/// </summary>
internal static class WorkerLauncher
{
    private static readonly Lazy<WorkerCommand> Command = new(Find);

    /// <summary>How to start workers for the application running in this process.</summary>
    public static WorkerCommand ForThisApplication() => Command.Value;

    public static Process Start(WorkerCommand command, string socketPath, ulong workerId)
    {
        var (dotnet, runtimeConfig, deps, host) = command;
        var start = new ProcessStartInfo(dotnet) { UseShellExecute = false };
        foreach (var a in new[] { "exec", "--runtimeconfig", runtimeConfig, "--depsfile", deps, host, socketPath, workerId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_TieredPGO"] = "0";
        return Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{dotnet}'.");
    }

    private static WorkerCommand Find()
    {
        var dir = AppContext.BaseDirectory;
        var host = Path.Combine(dir, "RaySharp.Worker.dll");
        if (!File.Exists(host))
            throw new FileNotFoundException($"RaySharp.Worker.dll is not in the application folder {dir}; reference the RaySharp project or package so it is copied there.");
        // The deps file this process was started with (the host's APP_CONTEXT_DEPS_FILES lists the app's
        // first, ';'-separated on every OS; under a test host it is the test assembly's), else the entry
        // assembly's, else any app's here.
        var started = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?.Split(';')[0];
        var candidates = new[]
        {
            started is not null && started.EndsWith(".deps.json", StringComparison.Ordinal) && Path.GetDirectoryName(Path.GetFullPath(started)) == Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar)
                ? Path.GetFileName(started)[..^".deps.json".Length]
                : null,
            Assembly.GetEntryAssembly()?.GetName().Name,
        };
        var config = candidates.FirstOrDefault(n => n is not null && File.Exists(Path.Combine(dir, n + ".runtimeconfig.json")) && File.Exists(Path.Combine(dir, n + ".deps.json")));
        config ??= Directory.EnumerateFiles(dir, "*.deps.json")
            .Select(f => Path.GetFileName(f)[..^".deps.json".Length])
            .Where(n => n is not "RaySharp.Worker" and not "testhost" && File.Exists(Path.Combine(dir, n + ".runtimeconfig.json")))
            .OrderBy(n => n, StringComparer.Ordinal)
            .FirstOrDefault()
            ?? throw new FileNotFoundException($"No <app>.runtimeconfig.json with a matching deps.json in {dir}; workers need the application's own runtime configuration.");
        return new WorkerCommand(DotnetPath(), Path.Combine(dir, config + ".runtimeconfig.json"), Path.Combine(dir, config + ".deps.json"), host);
    }

    private static string DotnetPath()
    {
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet")
            return self;
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (root is not null && File.Exists(Path.Combine(root, "dotnet")))
            return Path.Combine(root, "dotnet");
        var fromRuntime = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}

/// <summary>The command line that starts workers for one job: its application's runtime config, dependencies and worker host.</summary>
internal sealed record WorkerCommand(string Dotnet, string RuntimeConfig, string Deps, string Host);
