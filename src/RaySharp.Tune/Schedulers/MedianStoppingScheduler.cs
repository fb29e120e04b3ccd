using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Median stopping rule (Golovin et al., Google Vizier, KDD 2017; Ray's <c>MedianStoppingRule</c>):
/// after its grace period, a trial whose best result so far is worse than the median of the other
/// trials' running means up to the same iteration is stopped (or paused). Other trials count once
/// they have finished or have themselves reached that iteration.
/// </summary>
public sealed class MedianStoppingScheduler : ITrialScheduler
{
    private readonly MedianStoppingOptions _options;
    private string _metric = "";
    private TuneMode _mode;

    /// <summary>Creates the rule.</summary>
    public MedianStoppingScheduler(MedianStoppingOptions? options = null)
    {
        _options = options ?? new MedianStoppingOptions();
        if (_options.GracePeriod < 0)
            throw new ArgumentException($"The grace period must be ≥ 0 iterations, got {_options.GracePeriod}.");
        if (_options.MinSamplesRequired < 1)
            throw new ArgumentException($"At least one other trial is required to compute a median, got {_options.MinSamplesRequired}.");
    }

    /// <inheritdoc />
    public void Initialize(string metric, TuneMode mode)
    {
        SchedulerHelpers.ValidateObjective(metric, mode);
        (_metric, _mode) = (metric, mode);
    }

    /// <inheritdoc />
    public void OnTrialAdd(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public TrialDecision OnTrialResult(ITrialRunner runner, Trial trial, TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(result);
        var t = result.Iteration;
        if (t <= _options.GracePeriod)
            return TrialDecision.Continue;
        var means = new List<double>();
        foreach (var other in runner.Trials)
        {
            if (ReferenceEquals(other, trial) || other.Results.Count == 0)
                continue;
            if (other.Status != TrialStatus.Terminated && other.Iteration < t)
                continue;
            var upTo = other.Results.Where(r => r.Iteration <= t).ToList();
            if (upTo.Count > 0)
                means.Add(upTo.Average(r => SchedulerHelpers.Metric(r, _metric, nameof(MedianStoppingScheduler))));
        }
        if (means.Count < _options.MinSamplesRequired)
            return TrialDecision.Continue;
        var median = Stats.Median(means);
        var values = trial.Results.Select(r => SchedulerHelpers.Metric(r, _metric, nameof(MedianStoppingScheduler)));
        var best = _mode == TuneMode.Min ? values.Min() : values.Max();
        if (!_mode.IsBetter(median, best))
            return TrialDecision.Continue;
        return _options.HardStop ? TrialDecision.Stop : TrialDecision.Pause;
    }

    /// <inheritdoc />
    public void OnTrialComplete(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public Trial? ChooseTrialToRun(ITrialRunner runner) => SchedulerHelpers.FirstPendingThenPaused(runner);

    /// <summary>Nothing of its own to save (its decisions follow from the trials' results), so restored paused trials stay paused.</summary>
    /// <returns>An empty state.</returns>
    public JsonObject SaveState() => new() { ["scheduler"] = nameof(MedianStoppingScheduler) };

    /// <inheritdoc />
    public void RestoreState(ITrialRunner runner, JsonObject state)
    {
    }
}

/// <summary>Settings of <see cref="MedianStoppingScheduler"/>.</summary>
public sealed class MedianStoppingOptions
{
    /// <summary>Iterations a trial always runs before it can be stopped. Default 5.</summary>
    public int GracePeriod { get; init; } = 5;

    /// <summary>Other trials needed before the median is trusted. Default 3.</summary>
    public int MinSamplesRequired { get; init; } = 3;

    /// <summary>Stop (true, default) or pause (false) a trial below the median.</summary>
    public bool HardStop { get; init; } = true;
}
