using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace RaySharp.Chain.Hosting;

/// <summary>Settings of a <see cref="LocalChainCluster"/>.</summary>
public sealed class LocalChainClusterOptions
{
    /// <summary>Path of <c>raysharp-chain.dll</c> (default: next to the running program).</summary>
    public string HostPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "raysharp-chain.dll");

    /// <summary>Number of servers started (default 3).</summary>
    public int Servers { get; set; } = 3;

    /// <summary>Chain length f + 1 (default 3).</summary>
    public int Replicas { get; set; } = 3;

    /// <summary>Virtual groups (default 64).</summary>
    public int Groups { get; set; } = 64;

    /// <summary>Root of the controller's and servers' data directories; null keeps servers in memory
    /// (the controller still logs, under a temporary directory).</summary>
    public string? DataRoot { get; set; }

    /// <summary>Server fsync policy, <c>none</c> or <c>always</c> (default none).</summary>
    public string Fsync { get; set; } = "none";

    /// <summary>Controller failure timeout (default 1 s).</summary>
    public TimeSpan FailureTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Extra arguments for every server (fault injection, unsafe modes).</summary>
    public IReadOnlyList<string> ServerArguments { get; set; } = [];

    /// <summary>Extra arguments for the controller (fault injection).</summary>
    public IReadOnlyList<string> ControllerArguments { get; set; } = [];
}

/// <summary>
/// A chain cluster of real processes on loopback — one controller and n servers started from the
/// <c>raysharp-chain</c> executable — with helpers to kill (SIGKILL), restart and add processes. Used by
/// the tests and the benchmark.
/// </summary>
public sealed class LocalChainCluster : IAsyncDisposable
{
    private readonly LocalChainClusterOptions _options;
    private readonly Dictionary<int, Process> _servers = [];
    private readonly Dictionary<int, int> _serverPorts = [];
    private readonly string _controllerData;
    private Process? _controller;
    private int _controllerPort;

    private LocalChainCluster(LocalChainClusterOptions options)
    {
        _options = options;
        _controllerData = options.DataRoot is not null
            ? Path.Combine(options.DataRoot, "controller")
            : Path.Combine(Path.GetTempPath(), "raysharp-chain-" + Guid.NewGuid().ToString("N"));
    }

    /// <summary>The controller's address, for <see cref="Client.ChainClientOptions.Controller"/>.</summary>
    public IPEndPoint Controller => new(IPAddress.Loopback, _controllerPort);

    /// <summary>Ids of the server processes currently running.</summary>
    public IReadOnlyCollection<int> RunningServers => [.. _servers.Where(s => !s.Value.HasExited).Select(s => s.Key)];

    /// <summary>Starts the controller and <see cref="LocalChainClusterOptions.Servers"/> servers.</summary>
    public static async Task<LocalChainCluster> StartAsync(LocalChainClusterOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(options.HostPath))
            throw new FileNotFoundException($"The chain host {options.HostPath} does not exist; build src/RaySharp.Chain.Host or set HostPath.", options.HostPath);
        var cluster = new LocalChainCluster(options);
        try
        {
            await cluster.StartControllerAsync(cancellationToken).ConfigureAwait(false);
            for (var id = 0; id < options.Servers; id++)
                await cluster.StartServerAsync(id, cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts (or restarts) the controller, on the same port as before when there was one.</summary>
    public async Task StartControllerAsync(CancellationToken cancellationToken = default)
    {
        var args = new List<string>
        {
            "controller", "--port", _controllerPort.ToString(CultureInfo.InvariantCulture), "--data", _controllerData,
            "--replicas", _options.Replicas.ToString(CultureInfo.InvariantCulture),
            "--groups", _options.Groups.ToString(CultureInfo.InvariantCulture),
            "--initial-servers", Math.Min(_options.Servers, _options.Replicas).ToString(CultureInfo.InvariantCulture),
            "--failure-timeout-ms", ((int)_options.FailureTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        };
        args.AddRange(_options.ControllerArguments);
        (_controller, _controllerPort) = await LaunchAsync(args, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts server <paramref name="id"/> (again, after a kill: it replays its log if it has one).</summary>
    public async Task StartServerAsync(int id, CancellationToken cancellationToken = default)
    {
        var args = new List<string>
        {
            "server", "--id", id.ToString(CultureInfo.InvariantCulture),
            "--controller", Controller.ToString(), "--fsync", _options.Fsync,
        };
        if (_options.DataRoot is not null)
            args.AddRange(["--data", Path.Combine(_options.DataRoot, "server-" + id.ToString(CultureInfo.InvariantCulture))]);
        args.AddRange(_options.ServerArguments);
        var (process, port) = await LaunchAsync(args, cancellationToken).ConfigureAwait(false);
        _servers[id] = process;
        _serverPorts[id] = port;
    }

    /// <summary>Where server <paramref name="id"/> listens (its last start); a server answers configuration
    /// requests too, so a client pointed at it sees that server's configuration.</summary>
    public IPEndPoint ServerEndPoint(int id) => _serverPorts.TryGetValue(id, out var port)
        ? new IPEndPoint(IPAddress.Loopback, port)
        : throw new ArgumentException($"Server {id} was never started in this cluster.", nameof(id));

    /// <summary>kill -9 of a server process.</summary>
    public void KillServer(int id)
    {
        if (_servers.Remove(id, out var process))
            Kill(process);
    }

    /// <summary>
    /// Fault injection (Linux): stops server <paramref name="id"/> with SIGSTOP. Its sockets stay open and its
    /// kernel still accepts connections, but it answers nothing and sends no heartbeat — a hung server, which
    /// the controller cuts out only when its heartbeats time out. <see cref="ResumeServer"/> continues it.
    /// </summary>
    public void SuspendServer(int id)
    {
        var pid = Signal(id, SigStop);
        // kill() returns before the signal takes effect: a thread already running may still answer a request.
        // Return only once every thread of the process is stopped.
        var clock = Stopwatch.StartNew();
        while (!AllThreadsStopped(pid))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                throw new InvalidOperationException($"Server {id} (pid {pid}) did not stop within 10 s of SIGSTOP.");
            Thread.Sleep(1);
        }
    }

    /// <summary>Continues a server stopped by <see cref="SuspendServer"/> (SIGCONT).</summary>
    public void ResumeServer(int id) => Signal(id, SigCont);

    private const int SigCont = 18;
    private const int SigStop = 19;

    /// <summary>True when every thread of <paramref name="pid"/> is in state T (stopped), read from /proc.</summary>
    private static bool AllThreadsStopped(int pid)
    {
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                if (stat[stat.LastIndexOf(')') + 2] != 'T')
                    return false;
            }
            catch (IOException)
            {
                // the thread exited meanwhile
            }
        }
        return true;
    }

    private int Signal(int id, int signal)
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("Suspending a server uses SIGSTOP/SIGCONT and needs Linux.");
        if (!_servers.TryGetValue(id, out var process) || process.HasExited)
            throw new ArgumentException($"Server {id} is not running in this cluster.", nameof(id));
        if (SendSignal(process.Id, signal) != 0)
            throw new InvalidOperationException($"Could not signal server {id} (pid {process.Id}): errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}.");
        return process.Id;
    }

#pragma warning disable SYSLIB1054 // a blittable call; LibraryImport would need unsafe code for nothing
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
#pragma warning restore SYSLIB1054

    /// <summary>kill -9 of the controller process.</summary>
    public void KillController()
    {
        if (_controller is not null)
            Kill(_controller);
        _controller = null;
    }

    /// <summary>Kills every process and deletes the temporary controller directory.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var process in _servers.Values)
            Kill(process);
        _servers.Clear();
        KillController();
        if (_options.DataRoot is null && Directory.Exists(_controllerData))
            Directory.Delete(_controllerData, recursive: true);
        return ValueTask.CompletedTask;
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(); // SIGKILL; a chain process starts no children (and walking the tree costs time)
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    private async Task<(Process Process, int Port)> LaunchAsync(List<string> args, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(_options.HostPath);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        // Without W^X double mapping of JIT code the kernel tears a killed process down several times faster
        // (measured: a kill -9 closed the server's sockets after 30-150 ms with it, 8-45 ms without), and
        // a killed server's sockets closing is how the controller detects a crash at once.
        start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_options.HostPath}.");
        var errors = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                    errors.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
                if (line is null)
                {
                    string text;
                    lock (errors)
                        text = errors.ToString();
                    throw new InvalidOperationException($"raysharp-chain {string.Join(' ', args)} exited before it was ready: {text}");
                }
                if (line.StartsWith("ready ", StringComparison.Ordinal))
                {
                    var port = int.Parse(line.AsSpan(6), CultureInfo.InvariantCulture);
                    // Keep draining stdout so the child never blocks on a full pipe.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, CancellationToken.None);
                    return (process, port);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Kill(process);
            throw new TimeoutException($"raysharp-chain {string.Join(' ', args)} did not print 'ready PORT' within 30 s.");
        }
    }
}
