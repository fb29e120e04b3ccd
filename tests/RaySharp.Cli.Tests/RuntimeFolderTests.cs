using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RaySharp.TestPrograms;

namespace RaySharp.Cli.Tests;

/// <summary>
/// The per-user runtime folder: several nodes on one machine, each with its own record; stale session
/// folders of killed nodes removed; the folder private (0700) and refused when it is not this user's.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RuntimeFolderTests : IDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly string _scratch = Directory.CreateTempSubdirectory("raysharp-rt-").FullName;

    private string Home => Path.Combine(_scratch, "home");

    [Fact]
    public async Task Two_heads_run_at_once_and_a_bare_stop_names_them_and_how_to_pick_one()
    {
        var first = await StartAsync(Home);
        var second = await StartAsync(Home, "--port", "0");
        Assert.NotEqual(first.Address, second.Address);
        var port = second.Tcp![(second.Tcp!.LastIndexOf(':') + 1)..];
        Assert.Equal(2, Directory.GetFiles(Home, "head-*.json").Length);

        var ambiguous = await Programs.RaySharpAsync(Home, "status");
        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Contains("2 RaySharp nodes are running; say which with --address ADDRESS or --port PORT", ambiguous.Err);
        Assert.Contains($"pid {first.Pid}: {first.Address}", ambiguous.Err);
        Assert.Contains($"pid {second.Pid}: {second.Address}, {second.Tcp}", ambiguous.Err);

        var bareStop = await Programs.RaySharpAsync(Home, "stop");
        Assert.Equal(1, bareStop.ExitCode);
        Assert.Contains("say which with --address ADDRESS or --port PORT", bareStop.Err);
        Assert.True(Programs.IsAlive(first.Pid) && Programs.IsAlive(second.Pid), "a bare stop with two nodes running stopped one");

        var status = await Programs.RaySharpAsync(Home, "status", "--address", first.Address);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains($"(pid {first.Pid})", status.Out);

        var stopSecond = await Programs.RaySharpAsync(Home, "stop", "--port", port);
        Assert.True(stopSecond.ExitCode == 0, stopSecond.ToString());
        Assert.Contains($"Stopped the node (pid {second.Pid})", stopSecond.Out);
        Assert.False(Programs.IsAlive(second.Pid));
        Assert.True(Programs.IsAlive(first.Pid));

        var stopLast = await Programs.RaySharpAsync(Home, "stop");
        Assert.True(stopLast.ExitCode == 0, stopLast.ToString());
        Assert.Contains($"Stopped the node (pid {first.Pid})", stopLast.Out);
        Assert.Empty(Directory.GetFiles(Home, "head-*.json"));
        Assert.Empty(Directory.GetDirectories(Home, "session-*"));
    }

    [Fact]
    public async Task A_killed_nodes_session_folder_and_record_are_removed_when_the_next_node_starts()
    {
        var killed = await StartAsync(Home);
        var killedSession = SessionFolder(killed.Address);
        Assert.True(Directory.Exists(killedSession));
        using (var process = Process.GetProcessById(killed.Pid))
            process.Kill(entireProcessTree: true);
        await Programs.Until(() => !Programs.IsAlive(killed.Pid), "the killed node is gone");
        Assert.True(Directory.Exists(killedSession), "a node killed with SIGKILL cannot remove its own session folder");

        var next = await StartAsync(Home);
        Assert.False(Directory.Exists(killedSession), $"the killed node's session folder {killedSession} is still there");
        Assert.True(Directory.Exists(SessionFolder(next.Address)));
        var records = Directory.GetFiles(Home, "head-*.json");
        Assert.Single(records);
        Assert.Contains($"\"Pid\":{next.Pid}", File.ReadAllText(records[0]));

        var stop = await Programs.RaySharpAsync(Home, "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
    }

    [Fact]
    public async Task The_runtime_folder_is_created_private_under_XDG_RUNTIME_DIR_and_sessions_live_inside_it()
    {
        var xdg = Path.Combine(_scratch, "xdg");
        Directory.CreateDirectory(xdg);
        var environment = new Dictionary<string, string?> { ["XDG_RUNTIME_DIR"] = xdg };
        var started = await Programs.RaySharpWithAsync(environment, "start", "--head", "--num-cpus", "1");
        Assert.True(started.ExitCode == 0, started.ToString());
        var folder = Path.Combine(xdg, "raysharp");
        try
        {
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(folder));
            Assert.Single(Directory.GetFiles(folder, "head-*.json"));
            Assert.Contains($"RAYSHARP_ADDRESS=unix:{folder}/session-", started.Out);
        }
        finally
        {
            var stop = await Programs.RaySharpWithAsync(environment, "stop");
            Assert.True(stop.ExitCode == 0, stop.ToString());
        }
    }

    [Fact]
    public async Task An_existing_runtime_folder_is_made_private_and_one_that_is_a_link_or_another_users_is_refused()
    {
        Directory.CreateDirectory(Home);
        File.SetUnixFileMode(Home, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var status = await Programs.RaySharpAsync(Home, "status");
        Assert.Contains("No RaySharp node is running", status.Err);
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(Home));

        var link = Path.Combine(_scratch, "link");
        Directory.CreateSymbolicLink(link, Home);
        var linked = await Programs.RaySharpAsync(link, "start", "--head");
        Assert.Equal(1, linked.ExitCode);
        Assert.Contains($"RaySharp cannot use {link} (from RAYSHARP_HOME) as its runtime folder: it is a link or a file, not a folder", linked.Err);

        // Another user's folder: as root, one given away to 'nobody'; otherwise '/', which belongs to root.
        string foreign;
        if (Environment.UserName == "root")
        {
            foreign = Path.Combine(_scratch, "foreign");
            Directory.CreateDirectory(foreign);
            using var chown = Process.Start("chown", ["65534", foreign])!;
            await chown.WaitForExitAsync();
            Assert.Equal(0, chown.ExitCode);
        }
        else
        {
            foreign = "/";
        }
        var refused = await Programs.RaySharpAsync(foreign, "status");
        Assert.Equal(1, refused.ExitCode);
        Assert.Matches(new Regex($"RaySharp cannot use {Regex.Escape(foreign)} \\(from RAYSHARP_HOME\\) as its runtime folder: it belongs to user \\d+, not to you"), refused.Err);
    }

    private sealed record Started(int Pid, string Address, string? Tcp);

    private static async Task<Started> StartAsync(string home, params string[] extra)
    {
        var result = await Programs.RaySharpAsync(home, ["start", "--head", "--num-cpus", "1", .. extra]);
        Assert.True(result.ExitCode == 0, result.ToString());
        var pid = int.Parse(Regex.Match(result.Out, @"Node started \(pid (\d+)\)").Groups[1].Value, CultureInfo.InvariantCulture);
        var address = result.Out.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("RAYSHARP_ADDRESS=", StringComparison.Ordinal))["RAYSHARP_ADDRESS=".Length..];
        var tcp = Regex.Match(result.Out, @"control service on unix:\S+ and (\S+:\d+)\.");
        return new Started(pid, address, tcp.Success ? tcp.Groups[1].Value : null);
    }

    private static string SessionFolder(string address) => Path.GetDirectoryName(address["unix:".Length..])!;

    public void Dispose()
    {
        foreach (var record in Directory.EnumerateFiles(_scratch, "head-*.json", SearchOption.AllDirectories))
        {
            try
            {
                using var doc = JsonDocument.Parse(File.ReadAllText(record));
                var pid = doc.RootElement.GetProperty("Pid").GetInt32();
                if (pid > 0 && Programs.IsAlive(pid))
                    Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is IOException or JsonException or ArgumentException or InvalidOperationException)
            {
                // Best effort.
            }
        }
        Directory.Delete(_scratch, recursive: true);
    }
}
