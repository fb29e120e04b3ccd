using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RaySharp.Chain.Diagnostics;

/// <summary>
/// Opt-in event trace for reconstructing a failover across processes. With <c>RAYSHARP_CHAIN_TRACE</c> set to
/// a directory, every chain process (controller, servers, and a process using the client) appends
/// <c>timestamp role event</c> lines to its own file there, where the timestamp is
/// <see cref="Stopwatch.GetTimestamp"/> — CLOCK_MONOTONIC in nanoseconds on Linux, so lines of different
/// processes on one machine are comparable. Lines are queued and written by a background thread every
/// 10 ms, so a traced call costs an enqueue; a process killed with -9 loses at most its last 10 ms.
/// Only rare events are traced (failures, configurations, retries), never the data path of a healthy chain.
/// </summary>
internal static class ChainTrace
{
    private static readonly string? Directory = Environment.GetEnvironmentVariable("RAYSHARP_CHAIN_TRACE") is { Length: > 0 } d ? d : null;
    private static readonly ConcurrentQueue<string> Lines = new();
    private static readonly object StartGate = new();
    private static string _role = "process";
    private static Thread? _writer;

    /// <summary>True when tracing is on; callers build their message only then.</summary>
    public static bool Enabled => Directory is not null;

    /// <summary>Names this process in its trace lines and file (e.g. <c>server-2</c>); call before the first event.</summary>
    public static void SetRole(string role)
    {
        if (Enabled)
            _role = role;
    }

    /// <summary>Records one event, stamped now.</summary>
    public static void Write(string text) => Write(Stopwatch.GetTimestamp(), text);

    /// <summary>Records one event that happened at <paramref name="timestamp"/> (a <see cref="Stopwatch.GetTimestamp"/> value).</summary>
    public static void Write(long timestamp, string text)
    {
        if (Directory is null)
            return;
        Lines.Enqueue(string.Create(CultureInfo.InvariantCulture, $"{timestamp} {_role} {text}"));
        if (_writer is null)
            StartWriter();
    }

    /// <summary>The process's GC pause and JIT totals so far, to tell a slow reaction's cause from the trace.</summary>
    public static string RuntimeCounters() => string.Create(CultureInfo.InvariantCulture,
        $"gc_pause_ms={GC.GetTotalPauseDuration().TotalMilliseconds:0.0} gc2={GC.CollectionCount(2)} jit_ms={System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0.0} jit_methods={System.Runtime.JitInfo.GetCompiledMethodCount()}");

    private static void StartWriter()
    {
        lock (StartGate)
        {
            if (_writer is not null)
                return;
            System.IO.Directory.CreateDirectory(Directory!);
            var path = Path.Combine(Directory!, string.Create(CultureInfo.InvariantCulture, $"{_role}-{Environment.ProcessId}.trace"));
            _writer = new Thread(() => WriteLoop(path)) { IsBackground = true, Name = "chain-trace" };
            _writer.Start();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Flush(path);
        }
    }

    private static void WriteLoop(string path)
    {
        while (true)
        {
            Thread.Sleep(10);
            Flush(path);
        }
    }

    private static void Flush(string path)
    {
        if (Lines.IsEmpty)
            return;
        var text = new StringBuilder();
        lock (Lines)
        {
            while (Lines.TryDequeue(out var line))
                text.Append(line).Append('\n');
            File.AppendAllText(path, text.ToString());
        }
    }
}
