using System.Globalization;

namespace RaySharp.Tune;

/// <summary>
/// Runs an experiment: trials of a trainable over a search space, proposed by a searcher, scheduled by
/// a scheduler, ended by stopping rules; results and checkpoints go to the experiment directory.
/// <code>
/// var tuner = new Tuner(Train, space, new TuneOptions
/// {
///     Metric = "loss", Mode = TuneMode.Min, NumSamples = 50,
///     Searcher = new TpeSearcher(), Scheduler = new AshaScheduler(new() { MaxT = 100 }),
/// });
/// ResultGrid results = await tuner.FitAsync();
/// Console.WriteLine(results.BestConfig);
/// </code>
/// With <see cref="TuneOptions.Ray"/> set, each trial runs as an actor on that RaySharp cluster; without
/// it, trials run on this process's thread pool. Bad options and search spaces throw here, before any trial starts.
/// </summary>
public sealed class Tuner
{
    private readonly ExperimentLoop _loop;
    private readonly string _directory;
    private int _started;

    /// <summary>Creates an experiment of a function trainable.</summary>
    /// <exception cref="ArgumentException">The options, the search space, or their combination with the searcher are invalid.</exception>
    public Tuner(TrainableFunction trainable, SearchSpace space, TuneOptions options)
        : this(FunctionExecutor(trainable, options), space, options)
    {
    }

    /// <summary>Creates an experiment of a class trainable; <paramref name="trainable"/> makes a new instance.</summary>
    /// <exception cref="ArgumentException">The options, the search space, or their combination with the searcher are invalid.</exception>
    public Tuner(Func<Trainable> trainable, SearchSpace space, TuneOptions options)
        : this(ClassExecutor(trainable, options), space, options)
    {
    }

    internal Tuner(ITrialExecutor executor, SearchSpace space, TuneOptions options, string? restoreFrom = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _loop = new ExperimentLoop(space, options, executor);
        var name = options.Name ?? "experiment_" + DateTime.UtcNow.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        _directory = Path.GetFullPath(restoreFrom ?? options.ExperimentDirectory ?? Path.Combine("tune_results", name));
        if (restoreFrom is not null)
            _loop.Restore(ExperimentState.Load(_directory, options.Metric, options.Mode));
    }

    /// <summary>
    /// Continues an interrupted experiment (cancelled, or its process killed) from
    /// <paramref name="experimentDirectory"/>: finished trials are kept as they are and not run again;
    /// unfinished ones resume from their latest checkpoint on disk; the searcher continues from its saved
    /// state; trials the state did not yet list are created again. Pass the trainable, space and options
    /// the experiment was started with (a fresh searcher and scheduler of the same kinds and settings; both
    /// continue from the state saved with the experiment).
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory holds no experiment state.</exception>
    /// <exception cref="ArgumentException">The state was written for another metric or mode, search space, or kind of scheduler.</exception>
    public static Tuner Restore(string experimentDirectory, TrainableFunction trainable, SearchSpace space, TuneOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentDirectory);
        return new Tuner(FunctionExecutor(trainable, options), space, options, experimentDirectory);
    }

    /// <summary>Continues an interrupted experiment of a class trainable; see <see cref="Restore(string, TrainableFunction, SearchSpace, TuneOptions)"/>.</summary>
    public static Tuner Restore(string experimentDirectory, Func<Trainable> trainable, SearchSpace space, TuneOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentDirectory);
        return new Tuner(ClassExecutor(trainable, options), space, options, experimentDirectory);
    }

    private static ITrialExecutor FunctionExecutor(TrainableFunction trainable, TuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(trainable);
        ArgumentNullException.ThrowIfNull(options);
        return options.Ray is { } ray
            ? ActorExecutor(ray, TrainableReference.Of(trainable, isClassFactory: false), options)
            : new InProcessTrialExecutor(trainable);
    }

    private static ITrialExecutor ClassExecutor(Func<Trainable> factory, TuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Ray is { } ray)
            return ActorExecutor(ray, TrainableReference.Of(factory, isClassFactory: true), options);
        var runner = new ClassTrainableRunner(factory);
        return new InProcessTrialExecutor(runner.RunAsync, runner.CleanupIdle);
    }

    private static ActorTrialExecutor ActorExecutor(Ray ray, TrainableReference trainable, TuneOptions options)
    {
        var fixedResources = options.TrialResources ?? throw new ArgumentException("TuneOptions.TrialResources must not be null.");
        return new ActorTrialExecutor(ray, trainable, options.ResourcesPerTrial ?? (_ => fixedResources), Math.Max(1, options.MaxConcurrentTrials));
    }

    /// <summary>The experiment directory.</summary>
    public string ExperimentDirectory => _directory;

    /// <summary>
    /// Runs the experiment to the end. When cancelled, running trials are stopped, the experiment state is
    /// saved with them as unfinished, and <see cref="OperationCanceledException"/> is thrown; continue it
    /// with <see cref="Restore(string, TrainableFunction, SearchSpace, TuneOptions)"/>.
    /// </summary>
    /// <exception cref="AllTrialsFailedException">Every trial ended with an error; the message lists the first failures, the results stay on disk.</exception>
    /// <exception cref="InvalidOperationException">A trial never reported the metric, or the experiment could not continue.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<ResultGrid> FitAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("A Tuner runs once; create a new Tuner for another experiment.");
        return _loop.RunAsync(_directory, cancellationToken);
    }
}
