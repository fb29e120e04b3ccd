namespace RaySharp.Tune;

/// <summary>One report of a trial: its iteration number and the metrics it reported then.</summary>
public sealed class TrialResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="trialId">The trial that reported it.</param>
    /// <param name="iteration">1 for the first report of the trial, counting on across pauses and restores.</param>
    /// <param name="metrics">Metric name → value.</param>
    /// <param name="elapsed">Training time of the trial up to this report.</param>
    public TrialResult(string trialId, int iteration, IReadOnlyDictionary<string, double> metrics, TimeSpan elapsed = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(trialId);
        ArgumentNullException.ThrowIfNull(metrics);
        if (iteration < 1)
            throw new ArgumentOutOfRangeException(nameof(iteration), iteration, "Iterations count from 1.");
        TrialId = trialId;
        Iteration = iteration;
        Metrics = metrics;
        Elapsed = elapsed;
    }

    /// <summary>The trial that reported this result.</summary>
    public string TrialId { get; }

    /// <summary>Iteration number (Ray's <c>training_iteration</c>), from 1.</summary>
    public int Iteration { get; }

    /// <summary>Metric name → value.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>Training time of the trial up to this report.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The value of <paramref name="metric"/>.</summary>
    /// <exception cref="KeyNotFoundException">The result does not carry that metric.</exception>
    public double this[string metric] => Metrics.TryGetValue(metric, out var value)
        ? value
        : throw new KeyNotFoundException(
            $"Trial {TrialId} reported no metric '{metric}' at iteration {Iteration}; it reported {string.Join(", ", Metrics.Keys.Select(k => "'" + k + "'"))}.");

    /// <summary>The value of <paramref name="metric"/>, or null if not reported.</summary>
    public double? TryGet(string metric) => Metrics.TryGetValue(metric, out var value) ? value : null;
}
