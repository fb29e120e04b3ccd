using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using RaySharp.Control;
using RaySharp.Runtime;

namespace RaySharp.Cli;

/// <summary>
/// Where the running nodes are: <c>--address</c>, else <c>RAYSHARP_ADDRESS</c>, else <c>--port</c> (a
/// recorded node serving that TCP port), else the one node <c>start --head</c> recorded. Each node records
/// itself in <c>head-&lt;key&gt;.json</c> (its log is <c>node-&lt;key&gt;.log</c>) in the per-user runtime folder
/// (<see cref="RayNode.RuntimeDirectory"/>: <c>$RAYSHARP_HOME</c>, <c>$XDG_RUNTIME_DIR/raysharp</c> or
/// <c>/tmp/raysharp-&lt;uid&gt;</c>), so several nodes can run on one machine.
/// </summary>
internal static class Session
{
    private const string RecordPrefix = "head-";

    public static string Home => RayNode.RuntimeDirectory;

    public static string RecordFile(string key) => Path.Combine(Home, $"{RecordPrefix}{key}.json");

    public static string LogFile(string key) => Path.Combine(Home, $"node-{key}.log");

    /// <summary>A key for a new node's record and log.</summary>
    public static string NewKey() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));

    public static HeadRecord? ReadHead(string key)
    {
        try
        {
            var path = RecordFile(key);
            return File.Exists(path) ? JsonSerializer.Deserialize<HeadRecord>(File.ReadAllText(path)) : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    public static void WriteHead(string key, HeadRecord record)
    {
        var path = RecordFile(key);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(record));
        File.Move(temp, path, overwrite: true);
    }

    public static void DeleteHead(string key)
    {
        var path = RecordFile(key);
        if (File.Exists(path))
            File.Delete(path);
    }

    /// <summary>The recorded nodes whose process is alive (oldest first); records of nodes that are gone are removed.</summary>
    public static IReadOnlyList<(string Key, HeadRecord Head)> RunningHeads()
    {
        var running = new List<(string Key, HeadRecord Head, DateTime Written)>();
        foreach (var path in Directory.EnumerateFiles(Home, RecordPrefix + "*.json"))
        {
            var key = Path.GetFileNameWithoutExtension(path)[RecordPrefix.Length..];
            if (ReadHead(key) is not { } head)
                continue;
            if (head.Pid > 0 && ProcessLiveness.IsAlive(head.Pid))
                running.Add((key, head, File.GetLastWriteTimeUtc(path)));
            else if (head.Pid > 0)
                DeleteHead(key); // a node that was killed: its record is stale
        }
        return [.. running.OrderBy(r => r.Written).Select(r => (r.Key, r.Head))];
    }

    /// <summary>The running node one of whose control addresses is <paramref name="address"/>, if any.</summary>
    public static (string Key, HeadRecord Head)? HeadAt(string address) =>
        RunningHeads().Where(r => r.Head.Addresses.Contains(address) || r.Head.Address == address).Select(r => ((string, HeadRecord)?)r).FirstOrDefault();

    /// <summary>
    /// The control address to use, or null after printing why there is none (nothing runs, no node serves
    /// <paramref name="port"/>, or several run and neither <c>--address</c> nor <c>--port</c> says which).
    /// </summary>
    public static string? ResolveAddress(string? option, int? port)
    {
        if (!string.IsNullOrWhiteSpace(option))
            return option;
        if (Environment.GetEnvironmentVariable("RAYSHARP_ADDRESS") is { Length: > 0 } env)
            return env;
        var heads = RunningHeads();
        if (port is { } p)
        {
            var suffix = ":" + p.ToString(CultureInfo.InvariantCulture);
            if (heads.FirstOrDefault(h => h.Head.Addresses.Any(a => !a.StartsWith("unix:", StringComparison.Ordinal) && a.EndsWith(suffix, StringComparison.Ordinal))) is { Head: { } byPort })
                return byPort.Address;
            Error($"No running RaySharp node serves port {p}.{(heads.Count > 0 ? " Running:" + Environment.NewLine + Describe(heads) : " Start one with 'raysharp start --head --port " + p.ToString(CultureInfo.InvariantCulture) + "'.")}");
            return null;
        }
        switch (heads.Count)
        {
            case 1:
                return heads[0].Head.Address;
            case 0:
                Error("No RaySharp node is running: start one with 'raysharp start --head' (or pass --address, or set RAYSHARP_ADDRESS).");
                return null;
            default:
                Error($"{heads.Count} RaySharp nodes are running; say which with --address ADDRESS or --port PORT:{Environment.NewLine}{Describe(heads)}");
                return null;
        }
    }

    /// <summary>One line per node: pid and control addresses.</summary>
    public static string Describe(IEnumerable<(string Key, HeadRecord Head)> heads) =>
        string.Join(Environment.NewLine, heads.Select(h => $"  pid {h.Head.Pid}: {string.Join(", ", h.Head.Addresses)}"));

    /// <summary>Runs one control call; prints a clear message and returns null when the node cannot be reached.</summary>
    public static async Task<T?> CallAsync<T>(string address, Func<NodeControl.NodeControlClient, CallOptions, Task<T>> call, CancellationToken cancel)
        where T : class
    {
        try
        {
            using var channel = ControlChannel.Open(address);
            var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancel);
            return await call(new NodeControl.NodeControlClient(channel), options);
        }
        catch (ArgumentException e)
        {
            Error(e.Message);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable)
        {
            Error($"Nothing is listening at {address} ({e.Status.Detail}): no RaySharp node runs there. Start one with 'raysharp start --head'.");
        }
        catch (RpcException e)
        {
            Error($"The node at {address} answered {e.StatusCode}: {e.Status.Detail}");
        }
        return null;
    }

    /// <summary>Waits until process <paramref name="pid"/> has exited; false at the timeout.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken cancel)
    {
        Process process;
        try
        {
            process = Process.GetProcessById(pid);
        }
        catch (ArgumentException)
        {
            return true;
        }
        using (process)
        {
            try
            {
                await process.WaitForExitAsync(cancel).WaitAsync(timeout, cancel);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Parses <c>--resources</c>: a JSON object (<c>{"GPU": 1, "fpga": 2}</c>, as Ray takes it) or
    /// <c>GPU=1,fpga=2</c>. Throws <see cref="FormatException"/> with what is wrong.
    /// </summary>
    public static Dictionary<string, double>? ParseResources(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var resources = new Dictionary<string, double>(StringComparer.Ordinal);
        text = text.Trim();
        if (text.StartsWith('{'))
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new FormatException($"--resources is not valid JSON ({e.Message}); write it like '{{\"GPU\": 1, \"fpga\": 2}}'.", e);
            }
            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new FormatException("--resources must be a JSON object of names to amounts, like '{\"GPU\": 1}'.");
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Number || p.Value.GetDouble() < 0 || p.Name.Length == 0)
                        throw new FormatException($"--resources: '{p.Name}' must be a named, non-negative number (got {p.Value.GetRawText()}).");
                    resources[p.Name] = p.Value.GetDouble();
                }
            }
            return resources;
        }
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || pair[0].Length == 0 || !double.TryParse(pair[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
                throw new FormatException($"--resources: '{part}' is not NAME=AMOUNT; write '{{\"GPU\": 1}}' or GPU=1,fpga=2.");
            resources[pair[0]] = amount;
        }
        return resources;
    }

    public static void Error(string text) => Console.Error.WriteLine(text);
}

/// <summary>What <c>start --head</c> records: the control addresses (Unix socket first) and the node's pid.</summary>
internal sealed record HeadRecord(string Address, string[] Addresses, int Pid);
