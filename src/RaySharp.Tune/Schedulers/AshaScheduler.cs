namespace RaySharp.Tune;

/// <summary>
/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning",
/// MLSys 2020; Ray's <c>ASHAScheduler</c>). Rungs sit at <c>grace × rf^k</c> iterations below
/// <see cref="AshaOptions.MaxT"/>; when a trial first reaches a rung, it is stopped if its metric is
/// below the <c>1 − 1/rf</c> quantile of the values recorded at that rung so far (so about the top
/// 1/rf continue), and its value is recorded. No trial ever waits for others. Trials stop at MaxT.
/// With several brackets, bracket s starts its rungs at <c>grace × rf^s</c>; a new trial joins a
/// bracket at random, weighted towards brackets with more rungs.
/// </summary>
public sealed class AshaScheduler : ITrialScheduler, IRestorableScheduler
{
    private readonly AshaOptions _options;
    private readonly List<Rung[]> _brackets = [];
    private readonly Dictionary<string, int> _bracketOf = new(StringComparer.Ordinal);
    private readonly SeededRandom _random;
    private string _metric = "";
    private TuneMode _mode;

    /// <summary>Creates the scheduler.</summary>
    public AshaScheduler(AshaOptions? options = null)
    {
        _options = options ?? new AshaOptions();
        _options.Validate();
        _random = new SeededRandom(_options.Seed);
        for (var s = 0; s < _options.Brackets; s++)
        {
            var rungs = new List<Rung>();
            for (var milestone = _options.GracePeriod * Math.Pow(_options.ReductionFactor, s);
                 milestone < _options.MaxT;
                 milestone *= _options.ReductionFactor)
                rungs.Add(new Rung((int)Math.Round(milestone)));
            _brackets.Add([.. rungs]);
        }
    }

    /// <summary>Rung milestones (iterations) of each bracket.</summary>
    public IReadOnlyList<IReadOnlyList<int>> Milestones => _brackets.Select(b => (IReadOnlyList<int>)b.Select(r => r.Milestone).ToArray()).ToArray();

    /// <inheritdoc />
    public void Initialize(string metric, TuneMode mode)
    {
        SchedulerHelpers.ValidateObjective(metric, mode);
        (_metric, _mode) = (metric, mode);
    }

    /// <inheritdoc />
    public void OnTrialAdd(ITrialRunner runner, Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        var bracket = 0;
        if (_brackets.Count > 1)
        {
            var max = _brackets.Max(b => b.Length);
            var weights = _brackets.Select(b => Math.Exp(b.Length - max)).ToArray();
            var u = _random.NextDouble() * weights.Sum();
            for (bracket = 0; bracket < weights.Length - 1 && u >= weights[bracket]; bracket++)
                u -= weights[bracket];
        }
        _bracketOf[trial.Id] = bracket;
    }

    /// <inheritdoc />
    public TrialDecision OnTrialResult(ITrialRunner runner, Trial trial, TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Iteration >= _options.MaxT)
            return TrialDecision.Stop;
        if (!_bracketOf.TryGetValue(trial.Id, out var bracket))
            return TrialDecision.Continue;
        var value = SchedulerHelpers.Metric(result, _metric, nameof(AshaScheduler));
        var score = _mode == TuneMode.Max ? value : -value;
        var rungs = _brackets[bracket];
        for (var k = rungs.Length - 1; k >= 0; k--)
        {
            var rung = rungs[k];
            if (result.Iteration < rung.Milestone || rung.Recorded.ContainsKey(trial.Id))
                continue;
            var decision = TrialDecision.Continue;
            if (rung.Recorded.Count > 0)
            {
                var cutoff = Stats.Quantile([.. rung.Recorded.Values], 1 - 1.0 / _options.ReductionFactor);
                if (score < cutoff)
                    decision = TrialDecision.Stop;
            }
            rung.Recorded[trial.Id] = score;
            return decision;
        }
        return TrialDecision.Continue;
    }

    /// <inheritdoc />
    public void OnTrialComplete(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public Trial? ChooseTrialToRun(ITrialRunner runner) => SchedulerHelpers.FirstPendingThenPaused(runner);

    /// <summary>Re-records the trial's value at every rung it reached, as it was when first reached.</summary>
    void IRestorableScheduler.RestoreTrial(ITrialRunner runner, Trial trial)
    {
        OnTrialAdd(runner, trial);
        foreach (var rung in _brackets[_bracketOf[trial.Id]])
        {
            var first = trial.Results.FirstOrDefault(r => r.Iteration >= rung.Milestone);
            if (first?.TryGet(_metric) is { } value)
                rung.Recorded[trial.Id] = _mode == TuneMode.Max ? value : -value;
        }
    }

    private sealed class Rung(int milestone)
    {
        public int Milestone { get; } = milestone;

        public Dictionary<string, double> Recorded { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>Settings of <see cref="AshaScheduler"/> (Ray's defaults).</summary>
public sealed class AshaOptions
{
    /// <summary>Iterations after which every trial stops. Default 100.</summary>
    public int MaxT { get; init; } = 100;

    /// <summary>Iterations before the first rung. Default 1.</summary>
    public int GracePeriod { get; init; } = 1;

    /// <summary>Spacing of rungs and the fraction 1/rf that is promoted. Default 4.</summary>
    public double ReductionFactor { get; init; } = 4;

    /// <summary>Number of brackets. Default 1.</summary>
    public int Brackets { get; init; } = 1;

    /// <summary>Seed of bracket assignment. Default 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (GracePeriod < 1)
            throw new ArgumentException($"ASHA's grace period must be at least 1 iteration, got {GracePeriod}.");
        if (MaxT <= GracePeriod)
            throw new ArgumentException($"ASHA's MaxT ({MaxT}) must exceed its grace period ({GracePeriod}).");
        if (!(ReductionFactor > 1))
            throw new ArgumentException($"ASHA's reduction factor must be greater than 1, got {ReductionFactor}.");
        if (Brackets < 1)
            throw new ArgumentException($"ASHA needs at least one bracket, got {Brackets}.");
    }
}
