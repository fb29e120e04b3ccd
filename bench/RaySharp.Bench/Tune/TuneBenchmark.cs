using System.Diagnostics;
using System.Globalization;
using RaySharp.Tune;

namespace RaySharp.Bench.Tune;

/// <summary>
/// The <c>tune</c> verb: (a) searcher quality on Branin and Hartmann6, (b) scheduler efficiency on
/// synthetic learning curves, (c) per-result overhead of the experiment loop (in-process executor).
/// </summary>
internal sealed class TuneBenchmark : IBenchmark
{
    public string Verb => "tune";

    public string Description => "Tune: searchers on Branin/Hartmann6, schedulers on learning curves, per-result overhead (in-process and actor executors)";

    public async Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "raysharp-tune-bench", Guid.NewGuid().ToString("N"));
        try
        {
            if (!context.Args.Contains("--skip-search"))
                RunSearcherQuality(report, seeds: context.Quick ? 6 : 20, cancellationToken);
            if (!context.Args.Contains("--skip-schedulers"))
                await RunSchedulerEfficiencyAsync(report, seeds: context.Quick ? 5 : 60, scratch, cancellationToken);
            if (!context.Args.Contains("--skip-overhead"))
                await RunOverheadAsync(report, runs: context.Quick ? 2 : 3, scratch, cancellationToken);
        }
        finally
        {
            if (File.Exists("/proc/loadavg"))
                report.Note($"load average at the end of the run (1/5/15 min, {Environment.ProcessorCount} cores): {string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))}; wall-clock figures scale with it");
            if (Directory.Exists(scratch))
                Directory.Delete(scratch, recursive: true);
        }
    }

    private static void RunSearcherQuality(BenchReport report, int seeds, CancellationToken cancellationToken)
    {
        Console.WriteLine($"(a) searcher quality: median best over {seeds} seeds");
        var trials = SearcherQuality.Checkpoints[^1];
        foreach (var problem in SearcherQuality.Problems)
        {
            var medianAt50 = new Dictionary<string, double>();
            foreach (var (name, create) in SearcherQuality.Searchers)
            {
                var results = new double[seeds][];
                var times = new double[seeds];
                Parallel.For(0, seeds, new ParallelOptions { CancellationToken = cancellationToken }, seed =>
                {
                    var clock = Stopwatch.StartNew();
                    results[seed] = SearcherQuality.Run(create, problem, seed, trials);
                    times[seed] = clock.Elapsed.TotalMilliseconds;
                });
                for (var c = 0; c < SearcherQuality.Checkpoints.Length; c++)
                {
                    var median = SearcherQuality.Median(results.Select(r => r[c]).ToArray());
                    report.Add($"{problem.Name}_{name}_best_at_{SearcherQuality.Checkpoints[c]}", "median f", median);
                    if (SearcherQuality.Checkpoints[c] == 50)
                        medianAt50[name] = median;
                }
                report.Add($"{problem.Name}_{name}_search_ms_per_{trials}_trials", "ms", times);
            }
            foreach (var model in new[] { "tpe", "gp" })
            {
                var beats = medianAt50[model] < medianAt50["random"];
                report.Note(string.Create(CultureInfo.InvariantCulture,
                    $"{problem.Name}: {model} median best at 50 trials {medianAt50[model]:G6} vs random {medianAt50["random"]:G6} (minimum {problem.Minimum}); target 'beats random': {(beats ? "met" : "MISSED")}"));
            }
        }
    }

    private static async Task RunSchedulerEfficiencyAsync(BenchReport report, int seeds, string scratch, CancellationToken cancellationToken)
    {
        Console.WriteLine($"(b) scheduler efficiency: random search until acc ≥ {LearningCurves.Target}, {seeds} seeds, {SchedulerEfficiency.Concurrency} concurrent trials");
        var medianIterations = new Dictionary<string, double>();
        var perSeed = new Dictionary<string, List<double>>();
        foreach (var (name, create) in SchedulerEfficiency.Schedulers)
        {
            var iterations = new List<double>();
            var seconds = new List<double>();
            var reached = 0;
            for (var seed = 0; seed < seeds; seed++)
            {
                var outcome = await SchedulerEfficiency.RunAsync(create, seed, Path.Combine(scratch, $"sched_{name}_{seed}"), cancellationToken);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {name} seed {seed}: {outcome.Iterations} iterations, {outcome.Trials} trials, {outcome.WallClock.TotalSeconds:F2} s{(outcome.Reached ? "" : ", target not reached")}"));
                iterations.Add(outcome.Iterations);
                seconds.Add(outcome.WallClock.TotalSeconds);
                reached += outcome.Reached ? 1 : 0;
            }
            perSeed[name] = iterations;
            medianIterations[name] = SearcherQuality.Median(iterations);
            report.Add($"sched_{name}_iterations_to_target", "median trial-iterations", medianIterations[name]);
            report.Add($"sched_{name}_wallclock_to_target", "median s", SearcherQuality.Median(seconds));
            report.Add($"sched_{name}_runs_reaching_target", "runs", reached);
        }
        foreach (var name in medianIterations.Keys.Where(n => n != "fifo"))
        {
            var ratio = medianIterations[name] / medianIterations["fifo"];
            report.Add($"sched_{name}_vs_fifo_iterations", "ratio", ratio);
            // Every scheduler sees the same configs in the same order per seed, so the per-seed ratio is a paired comparison.
            var paired = SearcherQuality.Median(perSeed[name].Zip(perSeed["fifo"], (s, f) => s / f).ToList());
            report.Add($"sched_{name}_vs_fifo_paired_median", "ratio", paired);
            if (name is "asha" or "asha_promotion") // the target is judged at Ray's default rf = 4; the rf3 rows show the sensitivity
            {
                report.Note(string.Create(CultureInfo.InvariantCulture,
                    $"{name} needs {ratio:P0} of fifo's trial-iterations to reach acc ≥ {LearningCurves.Target} (median per-seed ratio {paired:P0}); target ≤ 33%: {(ratio <= 1.0 / 3 ? "met" : "MISSED")}"));
            }
        }
    }

    private static async Task RunOverheadAsync(BenchReport report, int runs, string scratch, CancellationToken cancellationToken)
    {
        const int trials = 1000;
        Console.WriteLine($"(c) overhead: {trials} no-op trials × {Overhead.ResultsPerTrial} results, in-process executor");
        (string Name, Func<ISearcher> Searcher, Func<ITrialScheduler> Scheduler)[] variants =
        [
            ("random_fifo", () => new RandomSearcher(), () => new FifoScheduler()),
            ("tpe_asha", () => new TpeSearcher(), () => new AshaScheduler(new() { MaxT = Overhead.ResultsPerTrial })),
        ];
        foreach (var (name, searcher, scheduler) in variants)
        {
            await Overhead.RunAsync(100, searcher, scheduler, Path.Combine(scratch, $"overhead_{name}_warmup"), cancellationToken);
            var perSecond = new List<double>();
            var perResult = new List<double>();
            for (var run = 0; run < runs; run++)
            {
                var (tps, us) = await Overhead.RunAsync(trials, searcher, scheduler, Path.Combine(scratch, $"overhead_{name}_{run}"), cancellationToken);
                perSecond.Add(tps);
                perResult.Add(us);
            }
            report.Add($"overhead_inprocess_{name}_trials_per_s", "trials/s", perSecond);
            var stat = report.Add($"overhead_inprocess_{name}_per_result", "µs/result", perResult);
            report.Note(string.Create(CultureInfo.InvariantCulture,
                $"overhead ({name}, in-process executor): {stat.Mean:F0} µs per reported result; target ≤ 1 ms: {(stat.Mean <= 1000 ? "met" : "MISSED")}"));
        }

        // The same no-op trials as actors on an embedded cluster: each report is one actor call
        // (driver → worker process → driver) on top of the loop's own cost.
        Console.WriteLine($"(c) overhead: {trials} no-op trials × {Overhead.ResultsPerTrial} results, actor executor (embedded cluster)");
        await using var ray = await Ray.InitAsync(cancellationToken: cancellationToken);
        await Overhead.RunAsync(20, () => new RandomSearcher(), () => new FifoScheduler(), Path.Combine(scratch, "overhead_actor_warmup"), cancellationToken, ray);
        var actorPerSecond = new List<double>();
        var actorPerResult = new List<double>();
        for (var run = 0; run < runs; run++)
        {
            var (tps, us) = await Overhead.RunAsync(trials, () => new RandomSearcher(), () => new FifoScheduler(), Path.Combine(scratch, $"overhead_actor_{run}"), cancellationToken, ray);
            actorPerSecond.Add(tps);
            actorPerResult.Add(us);
        }
        report.Add("overhead_actor_random_fifo_trials_per_s", "trials/s", actorPerSecond);
        var actorStat = report.Add("overhead_actor_random_fifo_per_result", "µs/result", actorPerResult);
        report.Note(string.Create(CultureInfo.InvariantCulture,
            $"overhead (random_fifo, actor executor): {actorStat.Mean:F0} µs per reported result (one actor round trip each); the ≤ 1 ms target is for the in-process loop"));
    }
}
