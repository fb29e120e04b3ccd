using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>Runs trials in creation order to the end (no early stopping); resumes paused trials after pending ones.</summary>
public sealed class FifoScheduler : ITrialScheduler
{
    /// <inheritdoc />
    public void Initialize(string metric, TuneMode mode)
    {
    }

    /// <inheritdoc />
    public void OnTrialAdd(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public TrialDecision OnTrialResult(ITrialRunner runner, Trial trial, TrialResult result) => TrialDecision.Continue;

    /// <inheritdoc />
    public void OnTrialComplete(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public Trial? ChooseTrialToRun(ITrialRunner runner) => SchedulerHelpers.FirstPendingThenPaused(runner);

    /// <summary>Nothing of its own to save (its decisions follow from the trials' results), so restored paused trials stay paused.</summary>
    /// <returns>An empty state.</returns>
    public JsonObject SaveState() => new() { ["scheduler"] = nameof(FifoScheduler) };

    /// <inheritdoc />
    public void RestoreState(ITrialRunner runner, JsonObject state)
    {
    }
}

internal static class SchedulerHelpers
{
    public static Trial? FirstPendingThenPaused(ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        Trial? paused = null;
        foreach (var trial in runner.Trials)
        {
            if (trial.Status == TrialStatus.Pending)
                return trial;
            if (trial.Status == TrialStatus.Paused)
                paused ??= trial;
        }
        return paused;
    }

    public static double Metric(TrialResult result, string metric, string scheduler) =>
        result.TryGet(metric) ?? throw new InvalidOperationException(
            $"{scheduler} needs the metric '{metric}' in every result, but trial {result.TrialId} reported only {string.Join(", ", result.Metrics.Keys.Select(k => "'" + k + "'"))} at iteration {result.Iteration}.");

    public static void ValidateObjective(string metric, TuneMode mode)
    {
        TuneModes.ValidateMetric(metric);
        TuneModes.Validate(mode);
    }
}
