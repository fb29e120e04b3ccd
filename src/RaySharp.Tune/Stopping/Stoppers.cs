namespace RaySharp.Tune;

/// <summary>
/// Stopping rules, checked on every result: stop this trial, or stop the whole experiment
/// (Ray's <c>Stopper</c>). Combine several with <see cref="CombinedStopper"/>.
/// </summary>
public interface IStopper
{
    /// <summary>True to end <paramref name="trial"/> after <paramref name="result"/>.</summary>
    bool ShouldStopTrial(Trial trial, TrialResult result);

    /// <summary>True to end every trial and the experiment.</summary>
    bool ShouldStopExperiment();
}

/// <summary>Ends each trial at <c>maxIterations</c> iterations.</summary>
public sealed class MaxIterationStopper : IStopper
{
    /// <summary>Creates the rule.</summary>
    public MaxIterationStopper(int maxIterations)
    {
        if (maxIterations < 1)
            throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "A trial needs at least one iteration.");
        MaxIterations = maxIterations;
    }

    /// <summary>Iterations per trial.</summary>
    public int MaxIterations { get; }

    /// <inheritdoc />
    public bool ShouldStopTrial(Trial trial, TrialResult result) => result?.Iteration >= MaxIterations;

    /// <inheritdoc />
    public bool ShouldStopExperiment() => false;
}

/// <summary>
/// Ends a trial whose metric has stopped moving: after <see cref="GracePeriod"/> iterations, when the
/// standard deviation of its last <see cref="Window"/> values is below <see cref="Tolerance"/>
/// (Ray's <c>TrialPlateauStopper</c>).
/// </summary>
public sealed class PlateauStopper : IStopper
{
    private readonly string _metric;

    /// <summary>Creates the rule.</summary>
    /// <param name="metric">The metric watched.</param>
    /// <param name="tolerance">Standard deviation below which the metric counts as flat. Default 0.01.</param>
    /// <param name="window">Number of latest results considered, ≥ 2. Default 4.</param>
    /// <param name="gracePeriod">Iterations before the rule applies. Default 4.</param>
    public PlateauStopper(string metric, double tolerance = 0.01, int window = 4, int gracePeriod = 4)
    {
        TuneModes.ValidateMetric(metric);
        if (!(tolerance >= 0))
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance is a standard deviation, ≥ 0.");
        if (window < 2)
            throw new ArgumentOutOfRangeException(nameof(window), window, "A plateau needs a window of at least 2 results.");
        _metric = metric;
        Tolerance = tolerance;
        Window = window;
        GracePeriod = Math.Max(gracePeriod, window);
    }

    /// <summary>Standard deviation below which the metric counts as flat.</summary>
    public double Tolerance { get; }

    /// <summary>Number of latest results considered.</summary>
    public int Window { get; }

    /// <summary>Iterations before the rule applies (at least <see cref="Window"/>).</summary>
    public int GracePeriod { get; }

    /// <inheritdoc />
    public bool ShouldStopTrial(Trial trial, TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Iteration < GracePeriod || trial.Results.Count < Window)
            return false;
        var last = new double[Window];
        for (var i = 0; i < Window; i++)
            last[i] = trial.Results[trial.Results.Count - Window + i][_metric];
        var mean = last.Average();
        var sd = Math.Sqrt(last.Sum(v => (v - mean) * (v - mean)) / Window);
        return sd < Tolerance;
    }

    /// <inheritdoc />
    public bool ShouldStopExperiment() => false;
}

/// <summary>Ends the experiment once <paramref name="timeout"/> has passed since it first asked (Ray's <c>TimeoutStopper</c>).</summary>
/// <param name="timeout">Wall-clock budget of the experiment.</param>
/// <param name="timeProvider">Clock (tests pass a fake one). Default: the system clock.</param>
public sealed class TimeoutStopper(TimeSpan timeout, TimeProvider? timeProvider = null) : IStopper
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly TimeSpan _timeout = timeout > TimeSpan.Zero
        ? timeout
        : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A timeout must be positive.");
    private long? _start;

    /// <inheritdoc />
    public bool ShouldStopTrial(Trial trial, TrialResult result) => false;

    /// <inheritdoc />
    public bool ShouldStopExperiment()
    {
        _start ??= _time.GetTimestamp();
        return _time.GetElapsedTime(_start.Value) >= _timeout;
    }
}

/// <summary>
/// Ends a trial — and, if asked, the whole experiment — once a result reaches <paramref name="threshold"/>
/// (at or below it for <see cref="TuneMode.Min"/>, at or above for <see cref="TuneMode.Max"/>).
/// </summary>
/// <param name="metric">The metric watched.</param>
/// <param name="threshold">The target value.</param>
/// <param name="mode">Which side of the threshold is reached.</param>
/// <param name="stopExperiment">True to end the experiment when any trial reaches the target.</param>
public sealed class MetricThresholdStopper(string metric, double threshold, TuneMode mode, bool stopExperiment = false) : IStopper
{
    private readonly string _metric = string.IsNullOrWhiteSpace(metric)
        ? throw new ArgumentException("A metric name is required.", nameof(metric))
        : metric;
    private readonly TuneMode _mode = Enum.IsDefined(mode) ? mode : throw new ArgumentException($"Unknown mode {(int)mode}.", nameof(mode));

    /// <summary>True once some trial has reached the threshold.</summary>
    public bool Reached { get; private set; }

    /// <inheritdoc />
    public bool ShouldStopTrial(Trial trial, TrialResult result)
    {
        if (result?.TryGet(_metric) is not { } value)
            return false;
        var hit = _mode == TuneMode.Min ? value <= threshold : value >= threshold;
        Reached |= hit;
        return hit;
    }

    /// <inheritdoc />
    public bool ShouldStopExperiment() => stopExperiment && Reached;
}

/// <summary>A stopping rule from two functions (either may be null).</summary>
/// <param name="stopTrial">Called on every result.</param>
/// <param name="stopExperiment">Called on every result and whenever the experiment checks.</param>
public sealed class FunctionStopper(Func<Trial, TrialResult, bool>? stopTrial, Func<bool>? stopExperiment = null) : IStopper
{
    /// <inheritdoc />
    public bool ShouldStopTrial(Trial trial, TrialResult result) => stopTrial?.Invoke(trial, result) ?? false;

    /// <inheritdoc />
    public bool ShouldStopExperiment() => stopExperiment?.Invoke() ?? false;
}

/// <summary>Stops when any of its rules does.</summary>
public sealed class CombinedStopper : IStopper
{
    private readonly IStopper[] _stoppers;

    /// <summary>Combines <paramref name="stoppers"/>.</summary>
    public CombinedStopper(params IStopper[] stoppers)
    {
        ArgumentNullException.ThrowIfNull(stoppers);
        if (stoppers.Length == 0 || stoppers.Any(s => s is null))
            throw new ArgumentException("A combined stopper needs one or more non-null stoppers.", nameof(stoppers));
        _stoppers = stoppers;
    }

    /// <inheritdoc />
    public bool ShouldStopTrial(Trial trial, TrialResult result)
    {
        var stop = false;
        foreach (var s in _stoppers)
            stop |= s.ShouldStopTrial(trial, result); // every rule sees every result
        return stop;
    }

    /// <inheritdoc />
    public bool ShouldStopExperiment() => _stoppers.Any(s => s.ShouldStopExperiment());
}
