using RaySharp.Tune;

namespace RaySharp.Bench.Tune;

/// <summary>
/// Part (c): no-op trials through the Tuner with the in-process executor, or (with a <see cref="Ray"/>)
/// as actors on the RaySharp runtime. Every trial reports
/// <see cref="ResultsPerTrial"/> results and does nothing else, so the wall-clock time is the
/// searcher + scheduler + bookkeeping (result files, checkpoints off) + executor hand-off cost.
/// </summary>
internal static class Overhead
{
    public const int ResultsPerTrial = 10;

    public static async Task<(double TrialsPerSecond, double MicrosecondsPerResult)> RunAsync(
        int trials, Func<ISearcher> searcher, Func<ITrialScheduler> scheduler, string directory, CancellationToken cancellationToken, Ray? ray = null)
    {
        var tuner = new Tuner(NoOp, new SearchSpace { ["x"] = Space.Uniform(0, 1), ["c"] = Space.Choice("a", "b") }, new TuneOptions
        {
            Metric = "loss",
            NumSamples = trials,
            MaxConcurrentTrials = Environment.ProcessorCount,
            Searcher = searcher(),
            Scheduler = scheduler(),
            ExperimentDirectory = directory,
            Ray = ray,
        });
        var results = await tuner.FitAsync(cancellationToken);
        if (results.Trials.Count != trials)
            throw new InvalidOperationException($"Expected {trials} trials, got {results.Trials.Count}.");
        return (trials / results.Elapsed.TotalSeconds, results.Elapsed.TotalMicroseconds / results.TotalIterations);
    }

    private static async Task NoOp(TrialContext trial, CancellationToken cancellationToken)
    {
        var x = trial.Config.Get<double>("x");
        for (var i = trial.Iteration; i < ResultsPerTrial; i++)
            await trial.ReportAsync("loss", x / (i + 1));
    }
}
