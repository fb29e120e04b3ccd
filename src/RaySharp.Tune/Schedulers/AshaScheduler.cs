using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter Tuning",
/// MLSys 2020). Rungs sit at <c>grace × rf^k</c> iterations below <see cref="AshaOptions.MaxT"/>; trials
/// stop at MaxT. No decision ever waits for a rung to fill. Two variants (<see cref="AshaOptions.Variant"/>):
/// <list type="bullet">
/// <item><see cref="AshaVariant.Stopping"/> (default; Ray's <c>ASHAScheduler</c>): when a trial first
/// reaches a rung it is stopped if its metric is below the <c>1 − 1/rf</c> quantile of the values recorded
/// at that rung so far, otherwise it continues; a rung's first trial always continues.</item>
/// <item><see cref="AshaVariant.Promotion"/> (the paper's Algorithm 2): a trial reaching a rung is paused
/// there; a paused trial is promoted (resumed from its checkpoint towards the next rung) only while it is
/// among the best <c>⌊n/rf⌋</c> of the n trials recorded at its rung, promotions from higher rungs first,
/// and a new trial starts only when no trial can be promoted. Once the searcher has finished and no trial
/// runs, each rung promotes its best <c>⌈n/rf⌉</c>, so small experiments still run their best trial to
/// MaxT. Trainables must report checkpoints; a <see cref="ConcurrencyLimiter"/> must allow at least rf
/// live trials (paused trials count).</item>
/// </list>
/// With several brackets, bracket s starts its rungs at <c>grace × rf^s</c>; a new trial joins a bracket
/// at random, weighted towards brackets with more rungs.
/// </summary>
public sealed class AshaScheduler : ITrialScheduler
{
    private readonly AshaOptions _options;
    private readonly List<Rung[]> _brackets = [];
    private readonly Dictionary<string, int> _bracketOf = new(StringComparer.Ordinal);
    private SeededRandom _random;
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
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(result);
        if (result.Iteration >= _options.MaxT)
            return TrialDecision.Stop;
        if (!_bracketOf.TryGetValue(trial.Id, out var bracket))
            return TrialDecision.Continue;
        var rungs = _brackets[bracket];
        var k = rungs.Length - 1;
        while (k >= 0 && result.Iteration < rungs[k].Milestone)
            k--;
        if (k < 0 || rungs[k].Recorded.ContainsKey(trial.Id))
            return TrialDecision.Continue; // below the first rung, or this rung's decision was made already
        var value = SchedulerHelpers.Metric(result, _metric, nameof(AshaScheduler));
        var score = _mode == TuneMode.Max ? value : -value;
        var rung = rungs[k];
        if (_options.Variant == AshaVariant.Stopping)
        {
            var stop = rung.Recorded.Count > 0
                && score < Stats.Quantile([.. rung.Recorded.Values], 1 - 1.0 / _options.ReductionFactor);
            rung.Recorded[trial.Id] = score;
            return stop ? TrialDecision.Stop : TrialDecision.Continue;
        }

        // Promotion: the trial waits at this rung unless it is the promotion the paper's get_job would make now.
        rung.Recorded[trial.Id] = score;
        if (!ReferenceEquals(NextPromotion(runner, bracket, reporting: trial), trial))
            return TrialDecision.Pause;
        rung.Promoted.Add(trial.Id);
        return TrialDecision.Continue;
    }

    /// <inheritdoc />
    public void OnTrialComplete(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public Trial? ChooseTrialToRun(ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (_options.Variant == AshaVariant.Stopping)
            return SchedulerHelpers.FirstPendingThenPaused(runner);
        for (var b = 0; b < _brackets.Count; b++)
        {
            if (NextPromotion(runner, b, reporting: null) is { } promoted)
            {
                foreach (var rung in _brackets[b])
                {
                    if (rung.Recorded.ContainsKey(promoted.Id) && !rung.Promoted.Contains(promoted.Id))
                        rung.Promoted.Add(promoted.Id);
                }
                return promoted;
            }
        }
        return runner.Trials.FirstOrDefault(t => t.Status == TrialStatus.Pending);
    }

    /// <summary>
    /// The trial of <paramref name="bracket"/> to promote now: from the highest rung down, the best trial
    /// among the rung's top quota that is not yet promoted and can run (paused, or the one reporting).
    /// </summary>
    private Trial? NextPromotion(ITrialRunner runner, int bracket, Trial? reporting)
    {
        var rungs = _brackets[bracket];
        var final = runner.SearchFinished && !runner.Trials.Any(t => t.Status == TrialStatus.Running && !ReferenceEquals(t, reporting));
        for (var k = rungs.Length - 1; k >= 0; k--)
        {
            var rung = rungs[k];
            var n = rung.Recorded.Count;
            var quota = (int)(final ? Math.Ceiling(n / _options.ReductionFactor) : Math.Floor(n / _options.ReductionFactor));
            if (quota == 0)
                continue;
            foreach (var (id, _) in rung.Recorded.OrderByDescending(r => r.Value).ThenBy(r => r.Key, StringComparer.Ordinal).Take(quota))
            {
                if (rung.Promoted.Contains(id))
                    continue;
                var trial = ReferenceEquals(reporting, null) || reporting.Id != id ? Find(runner, id) : reporting;
                if (ReferenceEquals(trial, reporting) || trial?.Status is TrialStatus.Paused or TrialStatus.Pending)
                    return trial;
            }
        }
        return null;
    }

    private static Trial? Find(ITrialRunner runner, string id)
    {
        foreach (var trial in runner.Trials)
        {
            if (trial.Id == id)
                return trial;
        }
        return null;
    }

    /// <inheritdoc />
    public JsonObject SaveState() => new()
    {
        ["scheduler"] = nameof(AshaScheduler),
        ["random"] = SearchHistory.SaveRandom(_random),
        ["bracket_of"] = new JsonObject(_bracketOf.Select(b => KeyValuePair.Create(b.Key, (JsonNode?)b.Value))),
        ["brackets"] = new JsonArray(_brackets.Select(rungs => (JsonNode?)new JsonArray(rungs.Select(rung => (JsonNode?)new JsonObject
        {
            ["milestone"] = rung.Milestone,
            ["recorded"] = SchedulerState.Scores(rung.Recorded),
            ["promoted"] = SchedulerState.Ids(rung.Promoted),
        }).ToArray())).ToArray()),
    };

    /// <inheritdoc />
    public void RestoreState(ITrialRunner runner, JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(state);
        const string Name = nameof(AshaScheduler);
        var brackets = SchedulerState.Required<JsonArray>(state, "brackets", Name);
        if (brackets.Count != _brackets.Count
            || brackets.Zip(_brackets).Any(b => b.First is not JsonArray saved || saved.Count != b.Second.Length
                || saved.Zip(b.Second).Any(r => r.First?["milestone"]?.GetValue<int>() != r.Second.Milestone)))
            throw new InvalidDataException(
                $"The saved ASHA state has other brackets or rungs than these options give ({string.Join(" | ", Milestones.Select(m => string.Join(",", m)))}); restore with the options the experiment was started with.");
        _random = SearchHistory.RestoreRandom(state);
        _bracketOf.Clear();
        foreach (var (id, bracket) in SchedulerState.Required<JsonObject>(state, "bracket_of", Name))
            _bracketOf[id] = bracket?.GetValue<int>() is int b && b >= 0 && b < _brackets.Count ? b : throw SchedulerState.Corrupt("bracket_of", Name);
        for (var b = 0; b < _brackets.Count; b++)
        {
            for (var k = 0; k < _brackets[b].Length; k++)
            {
                var saved = (JsonObject)brackets[b]![k]!;
                var rung = _brackets[b][k];
                rung.Recorded.Clear();
                rung.Promoted.Clear();
                foreach (var (id, score) in SchedulerState.Required<JsonObject>(saved, "recorded", Name))
                    rung.Recorded[id] = score?.GetValue<double>() ?? throw SchedulerState.Corrupt("recorded", Name);
                foreach (var id in SchedulerState.Required<JsonArray>(saved, "promoted", Name))
                    rung.Promoted.Add(id!.GetValue<string>());
            }
        }
    }

    private sealed class Rung(int milestone)
    {
        public int Milestone { get; } = milestone;

        public Dictionary<string, double> Recorded { get; } = new(StringComparer.Ordinal);

        /// <summary>Trials promoted past this rung (promotion variant).</summary>
        public HashSet<string> Promoted { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>How <see cref="AshaScheduler"/> treats a trial that reaches a rung.</summary>
public enum AshaVariant
{
    /// <summary>Stop it if it is below the rung's 1 − 1/rf quantile so far, else let it continue (Ray's ASHA).</summary>
    Stopping,

    /// <summary>Pause it; promote paused trials while they are in the top 1/rf of their rung (the paper's ASHA).</summary>
    Promotion,
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

    /// <summary>Stopping (default, as Ray) or promotion (as the paper's Algorithm 2).</summary>
    public AshaVariant Variant { get; init; } = AshaVariant.Stopping;

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
        if (!Enum.IsDefined(Variant))
            throw new ArgumentException($"ASHA's variant must be Stopping or Promotion, got {Variant}.");
    }
}
