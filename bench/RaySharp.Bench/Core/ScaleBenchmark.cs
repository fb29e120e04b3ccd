using System.Diagnostics;
using System.Globalization;
using RaySharp;

namespace RaySharp.Bench.Core;

/// <summary>
/// <c>core-scale</c>: the two scale targets of the core issue, in a process of their own so that no other
/// benchmark's buffers count towards its memory: the resident memory of an idle embedded head (node
/// services in this process, the driver's runtime included, workers separately), then one million no-op
/// tasks submitted in one burst and awaited, with their rate and the peak resident memory they cost.
/// </summary>
internal sealed class ScaleBenchmark : IBenchmark
{
    private const double IdleHeadTargetMiB = 150;

    public string Verb => "core-scale";

    public string Description => "core runtime at scale: idle head memory, one million queued no-op tasks";

    public async Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        if (!File.Exists("/proc/self/status"))
        {
            report.Note("core-scale reads /proc for resident memory; not measured on this platform.");
            return;
        }
        var tasks = context.Quick ? 200_000 : 1_000_000;
        await using var ray = await Ray.InitAsync(cancellationToken: cancellationToken);

        // Idle: workers started, nothing submitted; let start-up garbage go before reading.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var idleHead = Status("VmRSS");
        report.Add("idle_head_rss_mib", "MiB", idleHead);
        report.Add("idle_workers_rss_mib", "MiB", ChildrenRssMiB());

        // Peak from here on: writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
        File.WriteAllText("/proc/self/clear_refs", "5");
        var clock = Stopwatch.StartNew();
        var refs = new ObjectRef<byte[]>[tasks];
        for (var i = 0; i < tasks; i++)
            refs[i] = ray.Task(RayWorkloads.SmallValue).Remote();
        var submitted = clock.Elapsed;
        var results = await ray.GetAsync(refs, cancellationToken: cancellationToken);
        clock.Stop();
        var wrong = results.Count(r => r.Length != 2);
        if (wrong > 0)
            throw new InvalidOperationException($"{wrong} of {tasks:N0} no-op tasks returned a wrong value.");
        var peak = Status("VmHWM");

        report.Add("queued_noop_tasks_per_s", "tasks/s", tasks / clock.Elapsed.TotalSeconds);
        report.Add("queued_noop_tasks_peak_rss_mib", "MiB", peak);
        report.Note(string.Create(CultureInfo.InvariantCulture,
            $"{tasks:N0} no-op tasks submitted in one burst ({submitted.TotalSeconds:F1} s to submit, {clock.Elapsed.TotalSeconds:F1} s until all results were read); " +
            $"peak RSS of the driver+head process {peak:F0} MiB, {(peak - idleHead) * 1024 / tasks:F2} KiB per queued task above idle; all results correct."));
        report.Note(string.Create(CultureInfo.InvariantCulture,
            $"idle head: {idleHead:F0} MiB RSS (embedded: driver runtime + node services) vs target < {IdleHeadTargetMiB:F0} MB → {(idleHead * 1.048576 < IdleHeadTargetMiB ? "met" : "MISSED")}"));
        var machine = KiBLine(File.ReadAllLines("/proc/meminfo"), "MemTotal") / 1024.0;
        report.Note(string.Create(CultureInfo.InvariantCulture,
            $"{tasks:N0} queued no-op tasks completed with a peak of {peak:F0} MiB, {100 * peak / machine:F1}% of this machine's {machine:F0} MiB (target: without exhausting memory; judged as under a quarter of it) → {(peak < machine / 4 ? "met" : "MISSED")}"));
    }

    /// <summary>A memory line of /proc/self/status, in MiB.</summary>
    private static double Status(string field) => KiBLine(File.ReadAllLines("/proc/self/status"), field) / 1024.0;

    /// <summary>The summed resident memory of this process's children (the worker processes), in MiB.</summary>
    private static double ChildrenRssMiB()
    {
        var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        double total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var lines = File.ReadAllLines(Path.Combine(dir, "status"));
                if (lines.Any(l => l.StartsWith("PPid:", StringComparison.Ordinal) && l[5..].Trim() == self))
                    total += KiBLine(lines, "VmRSS") / 1024.0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not a process, or one that exited while we read it.
            }
        }
        return total;
    }

    private static long KiBLine(string[] lines, string field)
    {
        var line = lines.FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"/proc status has no {field} line.");
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
