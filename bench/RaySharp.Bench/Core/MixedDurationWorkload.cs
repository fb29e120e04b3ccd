using System.Diagnostics;
using RaySharp;

namespace RaySharp.Bench.Core;

/// <summary>
/// Not in Ray's set (issue 13): 2,000 tasks of heavy-tailed length submitted at once, the makespan against
/// the list-scheduling lower bound max(total work / CPUs, longest task) — how close the node keeps every
/// CPU busy while tasks of very different lengths wait in workers' queues. Lengths are Pareto (α = 1.5,
/// scale 2 ms, 1 ms under --quick, capped at 500× the scale), drawn from a seeded <see cref="Random"/>
/// (one seed per run). The tasks sleep rather than spin: on this 2-core machine, shared with other builds,
/// a spinning task's length stretches with the machine's load and its thread competes with the node's own,
/// so the ratio would measure the load; a sleeping task holds its CPU slot for a set time, and the bound
/// uses the lengths the tasks measured themselves, so what is left over is the scheduler's idle time.
/// </summary>
internal static class MixedDurationWorkload
{
    private const int Tasks = 2_000;

    public static async Task RunAsync(Ray ray, BenchReport report, bool quick, CancellationToken cancellationToken)
    {
        var cpus = Environment.ProcessorCount; // the embedded cluster's CPUs (RayOptions.NumCpus default)
        var scaleMs = quick ? 1.0 : 2.0;
        var runs = quick ? 2 : 3;
        var ratios = new double[runs];
        for (var run = 0; run < runs; run++)
        {
            var random = new Random(1300 + run);
            var lengths = new int[Tasks];
            for (var i = 0; i < Tasks; i++)
                lengths[i] = (int)Math.Round(Math.Min(scaleMs / Math.Pow(1 - random.NextDouble(), 1 / 1.5), 500 * scaleMs));
            var clock = Stopwatch.StartNew();
            var refs = new ObjectRef<double>[Tasks];
            for (var i = 0; i < Tasks; i++)
                refs[i] = ray.Task(RayWorkloads.SleepMilliseconds, lengths[i]).Remote();
            var measured = await ray.GetAsync(refs, cancellationToken: cancellationToken);
            var makespan = clock.Elapsed.TotalMilliseconds;
            var bound = Math.Max(measured.Sum() / cpus, measured.Max());
            ratios[run] = makespan / bound;
            report.Note($"mixed_duration_makespan_vs_bound run {run + 1}: {Tasks:N0} tasks, {measured.Sum() / 1000:F2} s of work (longest {measured.Max():F0} ms, median {Median(measured):F1} ms) " +
                $"on {cpus} CPUs: makespan {makespan / 1000:F2} s vs bound {bound / 1000:F2} s = {ratios[run]:F3}×");
            foreach (var r in refs)
                r.Dispose();
        }
        report.Add("mixed_duration_makespan_vs_bound", "×", ratios);
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
