namespace RaySharp.Tune.TestDriver;

/// <summary>
/// The experiment the kill test runs in this driver process and later restores in the test process:
/// both sides must build the same trainable, space and options.
/// </summary>
public static class KillableExperiment
{
    /// <summary>Iterations per trial.</summary>
    public const int Iterations = 20;

    /// <summary>Four parameters of mixed kinds and a constant.</summary>
    public static SearchSpace Space() => new()
    {
        ["q"] = RaySharp.Tune.Space.Uniform(0, 1),
        ["layers"] = RaySharp.Tune.Space.Int(1, 4),
        ["act"] = RaySharp.Tune.Space.Choice("relu", "tanh"),
        ["note"] = "fixed",
    };

    /// <summary>Eight random trials, two at a time, the state saved after every change.</summary>
    public static TuneOptions Options(string directory) => new()
    {
        Metric = "acc",
        Mode = TuneMode.Max,
        NumSamples = 8,
        MaxConcurrentTrials = 2,
        Searcher = new RandomSearcher(11),
        ExperimentDirectory = directory,
        StateSaveInterval = TimeSpan.FromMilliseconds(1),
    };

    /// <summary>
    /// acc = q·(1 − e^(−t/5)) for t = 1..20, a checkpoint (t) every other step, <paramref name="stepDelay"/>
    /// of sleep per step; <paramref name="started"/> sees each run's trial id and the iteration it resumed
    /// from, <paramref name="reported"/> every report.
    /// </summary>
    public static TrainableFunction Train(TimeSpan stepDelay, Action<string, int>? started = null, Action? reported = null) =>
        async (trial, cancellationToken) =>
        {
            var from = trial.Checkpoint?.ToObject<int>() ?? 0;
            if (from != trial.Iteration)
                throw new InvalidOperationException($"Trial {trial.TrialId} resumed from checkpoint {from} but at iteration {trial.Iteration}.");
            started?.Invoke(trial.TrialId, from);
            var q = trial.Config.Get<double>("q");
            for (var t = from + 1; t <= Iterations; t++)
            {
                if (stepDelay > TimeSpan.Zero)
                    await Task.Delay(stepDelay, cancellationToken).ConfigureAwait(false);
                await trial.ReportAsync("acc", q * (1 - Math.Exp(-t / 5.0)), t % 2 == 0 ? Checkpoint.FromObject(t) : null).ConfigureAwait(false);
                reported?.Invoke();
            }
        };
}
