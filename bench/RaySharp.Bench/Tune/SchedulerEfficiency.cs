using RaySharp.Tune;

namespace RaySharp.Bench.Tune;

/// <summary>
/// Part (b): random search on <see cref="LearningCurves"/> under each scheduler, run through the Tuner
/// (in-process executor) until some trial reports accuracy ≥ <see cref="LearningCurves.Target"/>; the
/// experiment then stops at once, so no scheduler is charged for iterations after the target. Every
/// scheduler sees the same configs in the same order (same searcher seed). ASHA runs in both variants:
/// Ray's stopping rule and the paper's promotion (pause at a rung, resume when in the top 1/rf).
/// </summary>
internal static class SchedulerEfficiency
{
    public const int MaxTrials = 400;

    /// <summary>Trials running at once; fixed so the asynchronous decisions do not depend on the machine's core count.</summary>
    public const int Concurrency = 2;

    public static readonly (string Name, Func<ITrialScheduler> Create)[] Schedulers =
    [
        ("fifo", () => new FifoScheduler()),
        ("asha", () => new AshaScheduler(new() { MaxT = LearningCurves.MaxT, GracePeriod = 1, ReductionFactor = 4 })),
        ("asha_promotion", () => new AshaScheduler(new() { MaxT = LearningCurves.MaxT, GracePeriod = 1, ReductionFactor = 4, Variant = AshaVariant.Promotion })),
        ("asha_rf3", () => new AshaScheduler(new() { MaxT = LearningCurves.MaxT, GracePeriod = 1, ReductionFactor = 3 })),
        ("asha_promotion_rf3", () => new AshaScheduler(new() { MaxT = LearningCurves.MaxT, GracePeriod = 1, ReductionFactor = 3, Variant = AshaVariant.Promotion })),
        ("hyperband", () => new HyperBandScheduler(new() { MaxT = LearningCurves.MaxT, ReductionFactor = 3 })),
        ("median", () => new MedianStoppingScheduler(new() { GracePeriod = 5, MinSamplesRequired = 3 })),
    ];

    public sealed record Outcome(long Iterations, TimeSpan WallClock, bool Reached, int Trials);

    public static async Task<Outcome> RunAsync(Func<ITrialScheduler> scheduler, int seed, string directory, CancellationToken cancellationToken)
    {
        var target = new MetricThresholdStopper("acc", LearningCurves.Target, TuneMode.Max, stopExperiment: true);
        var tuner = new Tuner(LearningCurves.Train, LearningCurves.Space(), new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = MaxTrials,
            MaxConcurrentTrials = Concurrency,
            Searcher = new RandomSearcher(seed),
            Scheduler = scheduler(),
            Stopper = new CombinedStopper(target, new MaxIterationStopper(LearningCurves.MaxT)),
            KeepCheckpoints = 1,
            ExperimentDirectory = directory,
        });
        var results = await tuner.FitAsync(cancellationToken);
        return new Outcome(results.TotalIterations, results.Elapsed, target.Reached, results.Trials.Count);
    }
}
