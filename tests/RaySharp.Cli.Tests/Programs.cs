using System.Diagnostics;
using System.Text;

namespace RaySharp.TestPrograms;

/// <summary>
/// Runs the built <c>raysharp</c> CLI and the test driver as real processes and collects their output
/// (shared by RaySharp.Cli.Tests and, linked, RaySharp.Tests).
/// </summary>
internal static class Programs
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The repository root and build configuration, read from where this test assembly was built.</summary>
    private static (string Root, string Configuration) Layout()
    {
        // tests/RaySharp.Cli.Tests/bin/<Configuration>/net10.0/
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        return (dir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName, dir.Parent!.Name);
    }

    public static string Cli => Output("src/RaySharp.Cli", "RaySharp.Cli.dll");

    public static string Driver => Output("tests/RaySharp.TestDriver", "RaySharp.TestDriver.dll");

    private static string Output(string project, string dll)
    {
        var (root, configuration) = Layout();
        var path = Path.Combine(root, project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{dll} was not built at {path}; build the solution first.");
    }

    /// <summary>The test driver program attached to <paramref name="address"/> (stdin redirected: closing it releases a 'hold').</summary>
    public static ProcessStartInfo StartDriver(string address, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Driver);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["RAYSHARP_ADDRESS"] = address;
        return start;
    }

    public static ProcessStartInfo Start(string home, params string[] args) => StartWith(new Dictionary<string, string?> { ["RAYSHARP_HOME"] = home }, args);

    /// <summary>The CLI with these environment variables set (null: removed); RAYSHARP_HOME, RAYSHARP_ADDRESS and XDG_RUNTIME_DIR are removed unless given.</summary>
    public static ProcessStartInfo StartWith(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(Cli);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment.Remove("RAYSHARP_HOME");
        start.Environment.Remove("RAYSHARP_ADDRESS");
        start.Environment.Remove("XDG_RUNTIME_DIR");
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        return start;
    }

    /// <summary>Runs <c>raysharp args…</c> to completion.</summary>
    public static Task<Result> RaySharpAsync(string home, params string[] args) => RunAsync(Start(home, args), args);

    /// <summary>Runs <c>raysharp args…</c> with these environment variables (see <see cref="StartWith"/>).</summary>
    public static Task<Result> RaySharpWithAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) => RunAsync(StartWith(environment, args), args);

    private static async Task<Result> RunAsync(ProcessStartInfo start, string[] args)
    {
        using var process = new Running(start);
        process.Process.StandardInput.Close();
        return await process.ExitAsync($"'raysharp {string.Join(' ', args)}' to exit");
    }

    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    /// <summary>A started process whose output is collected; killed (whole tree) on dispose if still running.</summary>
    public sealed class Running : IDisposable
    {
        private readonly StringBuilder _out = new();
        private readonly StringBuilder _err = new();
        private readonly List<(string Prefix, TaskCompletionSource<string> Seen)> _watches = [];

        public Running(ProcessStartInfo start)
        {
            Process = new Process { StartInfo = start };
            Process.OutputDataReceived += (_, e) => OnLine(_out, e.Data, watch: true);
            Process.ErrorDataReceived += (_, e) => OnLine(_err, e.Data, watch: false);
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        private void OnLine(StringBuilder into, string? line, bool watch)
        {
            if (line is null)
                return;
            lock (_watches)
            {
                into.AppendLine(line);
                if (!watch)
                    return;
                foreach (var (prefix, seen) in _watches)
                {
                    if (line.StartsWith(prefix, StringComparison.Ordinal))
                        seen.TrySetResult(line[prefix.Length..]);
                }
            }
        }

        /// <summary>Waits for a stdout line starting with <paramref name="prefix"/> and returns the rest of it.</summary>
        public async Task<string> LineAsync(string prefix)
        {
            var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_watches)
            {
                foreach (var line in _out.ToString().Split('\n'))
                {
                    if (line.StartsWith(prefix, StringComparison.Ordinal))
                        return line[prefix.Length..].TrimEnd('\r');
                }
                _watches.Add((prefix, seen));
            }
            var exited = Process.WaitForExitAsync();
            var first = await Task.WhenAny(seen.Task, exited, Task.Delay(Timeout));
            if (first == seen.Task)
                return await seen.Task;
            throw new TimeoutException(first == exited
                ? $"The process exited ({Process.ExitCode}) before printing '{prefix}…':\n{Text()}"
                : $"Timed out after {Timeout.TotalSeconds} s waiting for a line '{prefix}…':\n{Text()}");
        }

        public async Task<Result> ExitAsync(string what)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            try
            {
                await Process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Timed out after {Timeout.TotalSeconds} s waiting for {what}:\n{Text()}");
            }
            Process.WaitForExit(); // drains the output readers
            lock (_watches)
                return new Result(Process.ExitCode, _out.ToString(), _err.ToString());
        }

        private string Text()
        {
            lock (_watches)
                return $"--- stdout\n{_out}\n--- stderr\n{_err}";
        }

        public void Dispose()
        {
            try
            {
                if (!Process.HasExited)
                    Process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            Process.Dispose();
        }
    }

    /// <summary>True while a process with this pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails naming <paramref name="what"/> after the timeout.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out after {Timeout.TotalSeconds} s waiting until {what}.");
            await Task.Delay(50);
        }
    }
}
