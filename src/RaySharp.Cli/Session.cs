using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Grpc.Core;
using RaySharp.Control;

namespace RaySharp.Cli;

/// <summary>
/// Where the running node is: <c>--address</c>, else <c>RAYSHARP_ADDRESS</c>, else the record that
/// <c>start --head</c> leaves in <c>$RAYSHARP_HOME/head.json</c> (default <c>/tmp/raysharp</c>).
/// </summary>
internal static class Session
{
    public static string Home => Environment.GetEnvironmentVariable("RAYSHARP_HOME") is { Length: > 0 } home
        ? home
        : Path.Combine(Path.GetTempPath(), "raysharp");

    public static string HeadFile => Path.Combine(Home, "head.json");

    public static string LogFile => Path.Combine(Home, "node.log");

    public static HeadRecord? ReadHead()
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

    public static void WriteHead(HeadRecord record)
    {
        Directory.CreateDirectory(Home);
        var temp = HeadFile + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(record));
        File.Move(temp, HeadFile, overwrite: true);
    }

    public static void DeleteHead()
    {
        if (File.Exists(HeadFile))
            File.Delete(HeadFile);
    }

    /// <summary>The recorded node if its process is alive.</summary>
    public static HeadRecord? RunningHead() => ReadHead() is { } head && IsAlive(head.Pid) ? head : null;

    /// <summary>The control address to use, or null after printing why there is none.</summary>
    public static string? ResolveAddress(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
            return option;
        if (Environment.GetEnvironmentVariable("RAYSHARP_ADDRESS") is { Length: > 0 } env)
            return env;
        if (RunningHead() is { } head)
            return head.Address;
        Error("No RaySharp node is running: start one with 'raysharp start --head' (or pass --address, or set RAYSHARP_ADDRESS).");
        return null;
    }

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

    public static bool IsAlive(int pid)
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
