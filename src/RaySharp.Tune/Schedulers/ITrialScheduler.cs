using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>What a scheduler tells the experiment after a result.</summary>
public enum TrialDecision
{
    /// <summary>Keep training.</summary>
    Continue,

    /// <summary>Stop now and keep the trial to resume later from its latest checkpoint.</summary>
    Pause,

    /// <summary>Stop for good.</summary>
    Stop,
}

/// <summary>
/// Decides which trials run, continue, pause or stop (Ray's <c>TrialScheduler</c>). The experiment calls
/// <see cref="OnTrialAdd"/> when a trial is created, <see cref="OnTrialResult"/> on every result,
/// <see cref="OnTrialComplete"/> when a trial ends for any reason (finished, stopped, failed), and
/// <see cref="ChooseTrialToRun"/> whenever it has room for one more running trial. <see cref="SaveState"/>
/// is written with the experiment state and handed back to <see cref="RestoreState"/> by <c>Tuner.Restore</c>.
/// </summary>
public interface ITrialScheduler
{
    /// <summary>Binds the scheduler to the experiment's objective.</summary>
    void Initialize(string metric, TuneMode mode);

    /// <summary>A new trial was created (status <see cref="TrialStatus.Pending"/>).</summary>
    void OnTrialAdd(ITrialRunner runner, Trial trial);

    /// <summary>A running trial reported <paramref name="result"/> (already in <see cref="Trial.Results"/>).</summary>
    TrialDecision OnTrialResult(ITrialRunner runner, Trial trial, TrialResult result);

    /// <summary>A trial ended (status <see cref="TrialStatus.Terminated"/> or <see cref="TrialStatus.Error"/>).</summary>
    void OnTrialComplete(ITrialRunner runner, Trial trial);

    /// <summary>A pending or paused trial to start now, or null to start none (the experiment may then create a new trial).</summary>
    Trial? ChooseTrialToRun(ITrialRunner runner);

    /// <summary>
    /// Everything needed to continue scheduling later, saved with the experiment; null (the default) for a
    /// scheduler that keeps none, whose restored experiment then hands it every unfinished trial again
    /// through <see cref="OnTrialAdd"/>.
    /// </summary>
    JsonObject? SaveState() => null;

    /// <summary>
    /// Continues from <see cref="SaveState"/>'s output, after <see cref="Initialize"/>, with the restored
    /// experiment's trials in <paramref name="runner"/> (finished ones as they ended, unfinished ones pending
    /// or paused at their latest checkpoint).
    /// </summary>
    /// <exception cref="InvalidDataException"><paramref name="state"/> was saved by a scheduler of another kind or with other settings.</exception>
    void RestoreState(ITrialRunner runner, JsonObject state)
    {
    }
}

/// <summary>The experiment as a scheduler sees it.</summary>
public interface ITrialRunner
{
    /// <summary>Every trial created so far, in creation order.</summary>
    IReadOnlyList<Trial> Trials { get; }

    /// <summary>True once the searcher will create no more trials, so incomplete brackets must be decided with the trials they have.</summary>
    bool SearchFinished { get; }

    /// <summary>Ends a trial that is not the one reporting (return <see cref="TrialDecision.Stop"/> for that one).</summary>
    void StopTrial(Trial trial);

    /// <summary>The next run of a paused (or about to pause) trial uses <paramref name="config"/> and restores <paramref name="checkpoint"/> (PBT's exploit).</summary>
    void ResetTrial(Trial trial, TrialConfig config, Checkpoint? checkpoint);
}
