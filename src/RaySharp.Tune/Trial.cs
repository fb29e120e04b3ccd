namespace RaySharp.Tune;

/// <summary>Where a trial is in its life.</summary>
public enum TrialStatus
{
    /// <summary>Created, not yet started.</summary>
    Pending,

    /// <summary>Its trainable is running.</summary>
    Running,

    /// <summary>Stopped by a scheduler for now; resumes from its latest checkpoint when chosen again.</summary>
    Paused,

    /// <summary>Finished: completed, or stopped by a scheduler or stopping rule.</summary>
    Terminated,

    /// <summary>Failed more often than the experiment allows.</summary>
    Error,
}

/// <summary>One configuration being trained: its config, status, results and checkpoints.</summary>
public sealed class Trial
{
    private readonly List<TrialResult> _results = [];

    internal Trial(string id, TrialConfig config)
    {
        Id = id;
        Config = config;
    }

    /// <summary>Unique id within the experiment (e.g. <c>00007</c>).</summary>
    public string Id { get; }

    /// <summary>The config the trial runs (PBT may replace it while the trial is paused).</summary>
    public TrialConfig Config { get; internal set; }

    /// <summary>Current status.</summary>
    public TrialStatus Status { get; internal set; } = TrialStatus.Pending;

    /// <summary>Every result reported, in order (after a restore, iterations continue from the checkpoint).</summary>
    public IReadOnlyList<TrialResult> Results => _results;

    /// <summary>The latest result, or null before the first report.</summary>
    public TrialResult? LastResult => _results.Count > 0 ? _results[^1] : null;

    /// <summary>Iteration reached by the current run: the last result's, or where the next run will start.</summary>
    public int Iteration { get; internal set; }

    /// <summary>
    /// The most recent checkpoint the trial reported, or null. After <c>Tuner.Restore</c> or
    /// <see cref="ResultGrid.Open"/> it is read from the trial's folder (a finished trial's bytes when first used).
    /// </summary>
    public Checkpoint? LatestCheckpoint { get; internal set; }

    /// <summary>The checkpoint the next run restores from (normally the latest one; PBT sets a better trial's).</summary>
    public Checkpoint? RestoreFrom { get; internal set; }

    /// <summary>Failures so far (each retried from the latest checkpoint while under the experiment's limit).</summary>
    public int Failures { get; internal set; }

    /// <summary>
    /// The last failure (the trainable's exception with its full stack trace, also on the runtime), or null.
    /// Every failure is appended to <c>error.txt</c> in the trial's folder.
    /// </summary>
    public TrialError? Error { get; internal set; }

    internal void AddResult(TrialResult result)
    {
        _results.Add(result);
        Iteration = result.Iteration;
    }

    /// <inheritdoc />
    public override string ToString() => $"trial {Id} ({Status}, iteration {Iteration})";
}
