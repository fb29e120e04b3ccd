namespace RaySharp.Tune;

/// <summary>How an experiment runs. Every setting is validated when the <see cref="Tuner"/> is created.</summary>
public sealed class TuneOptions
{
    /// <summary>The metric that ranks trials (must be in every result). Required.</summary>
    public required string Metric { get; init; }

    /// <summary>Minimise or maximise <see cref="Metric"/>. Default <see cref="TuneMode.Min"/>.</summary>
    public TuneMode Mode { get; init; } = TuneMode.Min;

    /// <summary>
    /// Trials to create (Ray's <c>num_samples</c>); with <see cref="RandomSearcher"/> and grid axes, each grid
    /// point runs this many times. Default 1.
    /// </summary>
    public int NumSamples { get; init; } = 1;

    /// <summary>Most trials running at once. Default: the number of processors.</summary>
    public int MaxConcurrentTrials { get; init; } = Environment.ProcessorCount;

    /// <summary>Proposes configs. Default: <see cref="RandomSearcher"/> with seed 0.</summary>
    public ISearcher? Searcher { get; init; }

    /// <summary>Decides continue/pause/stop and which trial runs. Default: <see cref="FifoScheduler"/>.</summary>
    public ITrialScheduler? Scheduler { get; init; }

    /// <summary>Stopping rules. Default: none (trials end when their trainable returns).</summary>
    public IStopper? Stopper { get; init; }

    /// <summary>Times a failing trial is restarted from its latest checkpoint before it is marked as an error. Default 0.</summary>
    public int MaxFailures { get; init; }

    /// <summary>
    /// Where results, checkpoints and the experiment state are written. Default:
    /// <c>tune_results/&lt;Name&gt;</c> under the current directory.
    /// </summary>
    public string? ExperimentDirectory { get; init; }

    /// <summary>Experiment name (directory name when <see cref="ExperimentDirectory"/> is not set). Default: <c>experiment_</c> + UTC time.</summary>
    public string? Name { get; init; }

    /// <summary>Checkpoints kept per trial on disk, the best by <see cref="Metric"/>; null keeps all. Default null.</summary>
    public int? KeepCheckpoints { get; init; }

    /// <summary>How often <c>experiment_state.json</c> is rewritten while running. Default 5 s.</summary>
    public TimeSpan StateSaveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Where progress goes, e.g. <c>Console.Out</c>. Default null: silent. When this is the console and the
    /// console is an interactive terminal, a live table (trial counts by status, best so far, the top
    /// trials) is redrawn in place every <see cref="ProgressInterval"/> (Spectre.Console). Otherwise (a
    /// file, a pipe, a CI log) each update is one plain status line, and the table is written once at the end.
    /// </summary>
    public TextWriter? Progress { get; init; }

    /// <summary>How often the progress table is written. Default 5 s.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The RaySharp runtime to run trials on. When set, every trial runs as an actor in a worker process of
    /// this cluster, with <see cref="TrialResources"/> (or <see cref="ResourcesPerTrial"/>) as its resource
    /// request, and actors are reused across trials; the trainable must then be a static method or a lambda
    /// that captures nothing (worker processes load it from the application's assemblies). Default null:
    /// trials run on this process's thread pool.
    /// </summary>
    public Ray? Ray { get; init; }

    /// <summary>What each trial's actor asks the cluster for when <see cref="Ray"/> is set. Default: 1 CPU.</summary>
    public TrialResources TrialResources { get; init; } = new();

    /// <summary>Per-trial resource requests computed from the trial's config (overrides <see cref="TrialResources"/>); used only with <see cref="Ray"/>.</summary>
    public Func<TrialConfig, TrialResources>? ResourcesPerTrial { get; init; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(TrialResources, nameof(TrialResources));
        TrialResources.Validate(nameof(TrialResources));
        TuneModes.ValidateMetric(Metric);
        TuneModes.Validate(Mode);
        if (NumSamples < 1)
            throw new ArgumentException($"NumSamples must be at least 1, got {NumSamples}.");
        if (MaxConcurrentTrials < 1)
            throw new ArgumentException($"MaxConcurrentTrials must be at least 1, got {MaxConcurrentTrials}.");
        if (MaxFailures < 0)
            throw new ArgumentException($"MaxFailures must be ≥ 0, got {MaxFailures}.");
        if (KeepCheckpoints is < 1)
            throw new ArgumentException($"KeepCheckpoints must be at least 1 (or null to keep all), got {KeepCheckpoints}.");
        if (ProgressInterval <= TimeSpan.Zero)
            throw new ArgumentException($"ProgressInterval must be positive, got {ProgressInterval}.");
        if (StateSaveInterval <= TimeSpan.Zero)
            throw new ArgumentException($"StateSaveInterval must be positive, got {StateSaveInterval}.");
    }
}
