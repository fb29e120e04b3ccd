using System.Diagnostics;

namespace RaySharp.JoinOpt.Tests;

/// <summary>Runs the built <c>joinopt</c> CLI as a real process, from a working directory outside the repository.</summary>
internal static class JoinOptCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public sealed record Result(int ExitCode, string Out, string Err)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
    }

    /// <summary>The CLI's assembly, built beside the tests (tests/RaySharp.JoinOpt.Tests/bin/CONFIG/net10.0/ → src/RaySharp.JoinOpt.Cli/bin/CONFIG/net10.0/).</summary>
    private static string Dll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var root = dir.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(root, "src", "RaySharp.JoinOpt.Cli", "bin", dir.Parent!.Name, dir.Name, "joinopt.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"joinopt.dll was not built at {path}; build the tests (they reference the CLI project).");
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        start.ArgumentList.Add(Dll());
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment.Remove("RAYSHARP_DATA");
        start.Environment.Remove("RAYSHARP_ADDRESS");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'joinopt {string.Join(' ', args)}' did not exit within {Timeout.TotalMinutes} minutes.");
        }
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>The run was refused with exit code 1 and a message on stderr containing <paramref name="message"/>, and no stack trace.</summary>
    public static void AssertRefused(Result result, string message)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.True(result.Err.Contains(message, StringComparison.Ordinal), $"stderr lacks \"{message}\"\n{result}");
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Err, StringComparison.Ordinal);
    }
}
