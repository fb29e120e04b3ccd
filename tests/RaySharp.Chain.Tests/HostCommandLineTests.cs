using System.Diagnostics;
using RaySharp.Chain.Server;

namespace RaySharp.Chain.Tests;

/// <summary>Issue 13 item 12: <c>raysharp-chain</c> refuses what it does not know and takes its defaults from the options types.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class HostCommandLineTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "raysharp-chain-cli-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData("server --id 0 --controller 127.0.0.1:7000 --bogus 3", "Unrecognized command or argument '--bogus'")]
    [InlineData("controller --replicas", "Required argument missing for option: '--replicas'")]
    [InlineData("server --id 0 --controller nowhere", "--controller must be an IP endpoint such as 127.0.0.1:7000 (got 'nowhere')")]
    [InlineData("server --id 0 --controller 127.0.0.1:7000 --fsync sometimes", "--fsync must be 'none' or 'always' (got 'sometimes')")]
    [InlineData("server --controller 127.0.0.1:7000", "Option '--id' is required")]
    [InlineData("server --id 0 --controller 127.0.0.1:7000 --tls-cert /nonexistent.pem", "both a certificate and its private key")]
    public async Task Bad_command_lines_are_refused_with_a_message_naming_the_problem(string arguments, string message)
    {
        var (exit, _, error) = await RunAsync(arguments.Split(' '));
        Assert.NotEqual(0, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_file_other_users_can_read_is_refused_before_the_process_starts()
    {
        Directory.CreateDirectory(_folder);
        var token = Path.Combine(_folder, "token");
        File.WriteAllText(token, new string('a', 64));
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var (exit, output, error) = await RunAsync(["controller", "--token-file", token]);
        Assert.Equal(2, exit);
        Assert.Contains("chmod 600", error, StringComparison.Ordinal);
        Assert.DoesNotContain("ready", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_shows_the_defaults_of_the_options_types()
    {
        var defaults = new ChainServerOptions();
        var (exit, output, _) = await RunAsync(["server", "--help"]);
        Assert.Equal(0, exit);
        Assert.Matches($@"--read-lease-ms <read-lease-ms>\s+.*\[default: {(int)defaults.ReadLease.TotalMilliseconds}\]", output);
        Assert.Matches($@"--compact-kb <compact-kb>\s+.*\[default: {defaults.LogCompactionBytes / 1024}\]", output);
        Assert.Contains("--token-file", output, StringComparison.Ordinal);
        Assert.Contains("--tls-ca", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output, string Error)> RunAsync(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "raysharp-chain.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        start.Environment.Remove(Security.ClusterToken.EnvironmentVariable);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"raysharp-chain {string.Join(' ', arguments)} did not exit within 60 s (it should refuse at once).");
        }
        return (process.ExitCode, await output, await error);
    }
}
