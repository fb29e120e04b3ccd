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
/// Trials currently run on this process's thread pool; running them as RaySharp actors comes with the
/// core runtime. Bad options and search spaces throw here, before any trial starts.
/// </summary>
public sealed class Tuner
{
    private readonly ExperimentLoop _loop;
    private readonly string _directory;
    private int _started;

    /// <summary>Creates an experiment of a function trainable.</summary>
    /// <exception cref="ArgumentException">The options, the search space, or their combination with the searcher are invalid.</exception>
    public Tuner(TrainableFunction trainable, SearchSpace space, TuneOptions options)
        : this(new InProcessTrialExecutor(trainable), space, options)
    {
    }

    /// <summary>Creates an experiment of a class trainable; <paramref name="trainable"/> makes a new instance.</summary>
    /// <exception cref="ArgumentException">The options, the search space, or their combination with the searcher are invalid.</exception>
    public Tuner(Func<Trainable> trainable, SearchSpace space, TuneOptions options)
        : this(ClassExecutor(trainable), space, options)
    {
    }

    internal Tuner(ITrialExecutor executor, SearchSpace space, TuneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _loop = new ExperimentLoop(space, options, executor);
        var name = options.Name ?? "experiment_" + DateTime.UtcNow.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        _directory = Path.GetFullPath(options.ExperimentDirectory ?? Path.Combine("tune_results", name));
    }

    private static InProcessTrialExecutor ClassExecutor(Func<Trainable> factory)
    {
        var runner = new ClassTrainableRunner(factory);
        return new InProcessTrialExecutor(runner.RunAsync, runner.CleanupIdle);
    }

    /// <summary>The experiment directory.</summary>
    public string ExperimentDirectory => _directory;

    /// <summary>Runs the experiment to the end (or until cancelled: running trials are then stopped).</summary>
    /// <exception cref="InvalidOperationException">A trial never reported the metric, or the experiment could not continue.</exception>
    public Task<ResultGrid> FitAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
            throw new InvalidOperationException("A Tuner runs once; create a new Tuner for another experiment.");
        return _loop.RunAsync(_directory, cancellationToken);
    }
}
