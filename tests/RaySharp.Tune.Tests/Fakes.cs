namespace RaySharp.Tune.Tests;

/// <summary>A hand-driven experiment for scheduler tests: trials, statuses and calls are all explicit.</summary>
internal sealed class FakeRunner : ITrialRunner
{
    private readonly List<Trial> _trials = [];

    public IReadOnlyList<Trial> Trials => _trials;

    public bool SearchFinished { get; set; }

    public List<string> Stopped { get; } = [];

    public List<(string Trial, TrialConfig Config, Checkpoint? Checkpoint)> Resets { get; } = [];

    public Trial Add(ITrialScheduler scheduler, string id, TrialConfig? config = null)
    {
        var trial = new Trial(id, config ?? new TrialConfig([new("x", 0.0)]));
        _trials.Add(trial);
        scheduler.OnTrialAdd(this, trial);
        return trial;
    }

    /// <summary>Reports the trial's next iteration (marking it running) and applies the decision's status change.</summary>
    public TrialDecision Report(ITrialScheduler scheduler, Trial trial, double value, string metric = "loss", Checkpoint? checkpoint = null)
    {
        trial.Status = TrialStatus.Running;
        var result = new TrialResult(trial.Id, trial.Iteration + 1, new Dictionary<string, double> { [metric] = value });
        trial.AddResult(result);
        if (checkpoint is not null)
            trial.LatestCheckpoint = checkpoint.AtIteration(result.Iteration);
        var decision = scheduler.OnTrialResult(this, trial, result);
        if (decision == TrialDecision.Pause)
            trial.Status = TrialStatus.Paused;
        if (decision == TrialDecision.Stop)
            Complete(scheduler, trial);
        return decision;
    }

    public void Complete(ITrialScheduler scheduler, Trial trial)
    {
        trial.Status = TrialStatus.Terminated;
        scheduler.OnTrialComplete(this, trial);
    }

    public void StopTrial(Trial trial)
    {
        Stopped.Add(trial.Id);
        trial.Status = TrialStatus.Terminated;
    }

    public void ResetTrial(Trial trial, TrialConfig config, Checkpoint? checkpoint)
    {
        Resets.Add((trial.Id, config, checkpoint));
        trial.Config = config;
        trial.RestoreFrom = checkpoint;
    }
}

/// <summary>A clock that moves only when told.</summary>
internal sealed class ManualTime : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
