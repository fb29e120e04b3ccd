using System.Diagnostics;
using System.Globalization;

namespace RaySharp.Bench.Tune;

/// <summary>The <c>tune</c> verb: searcher quality, scheduler efficiency, and per-result overhead.</summary>
internal sealed class TuneBenchmark : IBenchmark
{
    public string Verb => "tune";

    public string Description => "Tune: searchers on Branin/Hartmann6, schedulers on learning curves, per-result overhead";

    public Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        var seeds = context.Quick ? 6 : 20;
        RunSearcherQuality(report, seeds, cancellationToken);
        return Task.CompletedTask;
    }

    private static void RunSearcherQuality(BenchReport report, int seeds, CancellationToken cancellationToken)
    {
        var trials = SearcherQuality.Checkpoints[^1];
        foreach (var problem in SearcherQuality.Problems)
        {
            var medianAt50 = new Dictionary<string, double>();
            foreach (var (name, create) in SearcherQuality.Searchers)
            {
                var clock = Stopwatch.StartNew();
                var results = new double[seeds][];
                Parallel.For(0, seeds, new ParallelOptions { CancellationToken = cancellationToken },
                    seed => results[seed] = SearcherQuality.Run(create, problem, seed, trials));
                for (var c = 0; c < SearcherQuality.Checkpoints.Length; c++)
                {
                    var atC = results.Select(r => r[c]).ToArray();
                    var median = SearcherQuality.Median(atC);
                    report.Add($"{problem.Name}_{name}_best_at_{SearcherQuality.Checkpoints[c]}", "median f", [median]);
                    if (SearcherQuality.Checkpoints[c] == 50)
                        medianAt50[name] = median;
                }
                report.Add($"{problem.Name}_{name}_search_time", "ms/run", clock.Elapsed.TotalMilliseconds * Environment.ProcessorCount / seeds);
            }
            foreach (var model in new[] { "tpe", "gp" })
            {
                var beats = medianAt50[model] < medianAt50["random"];
                report.Note(string.Create(CultureInfo.InvariantCulture,
                    $"{problem.Name}: {model} median best at 50 trials {medianAt50[model]:G6} vs random {medianAt50["random"]:G6} (minimum {problem.Minimum}) — target 'beats random' {(beats ? "met" : "MISSED")}"));
            }
        }
    }
}
