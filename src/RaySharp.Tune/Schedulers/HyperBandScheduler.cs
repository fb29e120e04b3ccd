using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Synchronous HyperBand (Li et al., JMLR 2018; Ray's <c>HyperBandScheduler</c>). New trials fill
/// brackets in turn; bracket s (s = s_max … 0, then again) takes
/// <c>n₀ = ⌈(s_max+1)/(s+1) · η^s⌉</c> trials and first runs them to <c>r₀ = MaxT · η^−s</c> iterations.
/// A trial reaching its bracket's milestone is paused until every trial of the bracket has reached it;
/// then the best <c>⌈n/η⌉</c> of the n still live are promoted (resumed from their checkpoints to the next milestone,
/// η times further) and the rest are stopped. Trials stop at <see cref="HyperBandOptions.MaxT"/>.
/// An incomplete bracket is decided with the trials it has once the searcher has finished.
/// </summary>
public sealed class HyperBandScheduler : ITrialScheduler
{
    private readonly HyperBandOptions _options;
    private readonly int _brackets; // s_max + 1
    private readonly List<Bracket> _all = [];
    private readonly Dictionary<string, Bracket> _bracketOf = new(StringComparer.Ordinal);
    private string _metric = "";
    private TuneMode _mode;

    /// <summary>Creates the scheduler.</summary>
    public HyperBandScheduler(HyperBandOptions? options = null)
    {
        _options = options ?? new HyperBandOptions();
        if (_options.MaxT < 1)
            throw new ArgumentException($"HyperBand's MaxT must be at least 1 iteration, got {_options.MaxT}.");
        if (!(_options.ReductionFactor > 1))
            throw new ArgumentException($"HyperBand's reduction factor must be greater than 1, got {_options.ReductionFactor}.");
        _brackets = (int)Math.Round(Math.Log(_options.MaxT) / Math.Log(_options.ReductionFactor)) + 1;
    }

    /// <summary>(trials, first milestone) of each bracket s = s_max … 0.</summary>
    public IReadOnlyList<(int Trials, int Milestone)> BracketSizes =>
        Enumerable.Range(0, _brackets).Select(i => _brackets - 1 - i).Select(s => (InitialTrials(s), InitialMilestone(s))).ToArray();

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
        var current = _all.Count > 0 ? _all[^1] : null;
        if (current is null || !current.Accepting)
        {
            var s = _brackets - 1 - _all.Count % _brackets;
            current = new Bracket(InitialTrials(s), InitialMilestone(s), halvings: s);
            _all.Add(current);
        }
        current.Live.Add(trial);
        current.Added++;
        _bracketOf[trial.Id] = current;
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
        if (result.Iteration < bracket.Milestone)
            return TrialDecision.Continue;
        if (bracket.Halvings == 0)
            return TrialDecision.Stop; // the last round runs to its milestone and ends
        var value = SchedulerHelpers.Metric(result, _metric, nameof(HyperBandScheduler));
        bracket.Scores[trial.Id] = _mode == TuneMode.Max ? value : -value;
        if (!RoundDone(runner, bracket))
            return TrialDecision.Pause;
        var good = Halve(runner, bracket, reporting: trial);
        return good.Contains(trial) ? TrialDecision.Continue : TrialDecision.Stop;
    }

    /// <inheritdoc />
    public void OnTrialComplete(ITrialRunner runner, Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        if (!_bracketOf.Remove(trial.Id, out var bracket))
            return;
        bracket.Live.Remove(trial);
        bracket.Scores.Remove(trial.Id);
        if (bracket.Live.Count > 0 && RoundDone(runner, bracket))
            Halve(runner, bracket, reporting: null);
    }

    /// <inheritdoc />
    public Trial? ChooseTrialToRun(ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        if (runner.SearchFinished)
        {
            foreach (var bracket in _all)
            {
                if (bracket.Live.Count > 0 && bracket.Halvings > 0 && RoundDone(runner, bracket))
                    Halve(runner, bracket, reporting: null);
            }
        }
        foreach (var bracket in _all)
        {
            foreach (var trial in bracket.Live)
            {
                if (trial.Status == TrialStatus.Pending
                    || (trial.Status == TrialStatus.Paused && trial.Iteration < bracket.Milestone))
                    return trial;
            }
        }
        // Trials outside any bracket (added before a restore) run first come, first served.
        return runner.Trials.FirstOrDefault(t => t.Status == TrialStatus.Pending && !_bracketOf.ContainsKey(t.Id));
    }

    /// <inheritdoc />
    public JsonObject SaveState() => new()
    {
        ["scheduler"] = nameof(HyperBandScheduler),
        ["brackets"] = new JsonArray(_all.Select(b => (JsonNode?)new JsonObject
        {
            ["initial_trials"] = b.InitialTrials,
            ["target"] = b.Target,
            ["milestone"] = b.Milestone,
            ["halvings"] = b.Halvings,
            ["added"] = b.Added,
            ["halved"] = b.Halved,
            ["live"] = SchedulerState.Ids(b.Live.Select(t => t.Id)),
            ["scores"] = SchedulerState.Scores(b.Scores),
        }).ToArray()),
    };

    /// <inheritdoc />
    public void RestoreState(ITrialRunner runner, JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(state);
        const string Name = nameof(HyperBandScheduler);
        _all.Clear();
        _bracketOf.Clear();
        foreach (var node in SchedulerState.Required<JsonArray>(state, "brackets", Name))
        {
            var saved = node as JsonObject ?? throw SchedulerState.Corrupt("brackets", Name);
            int Int(string name) => saved[name]?.GetValue<int>() ?? throw SchedulerState.Corrupt(name, Name);
            var bracket = new Bracket(Int("initial_trials"), Int("milestone"), Int("halvings"))
            {
                Target = Int("target"),
                Added = Int("added"),
                Halved = saved["halved"]?.GetValue<bool>() ?? throw SchedulerState.Corrupt("halved", Name),
            };
            if (bracket.Milestone > _options.MaxT || bracket.Halvings >= _brackets)
                throw new InvalidDataException($"The saved HyperBand state has a bracket (milestone {bracket.Milestone}, {bracket.Halvings} halvings left) that MaxT {_options.MaxT} and η {_options.ReductionFactor} cannot give; restore with the options the experiment was started with.");
            foreach (var id in SchedulerState.Required<JsonArray>(saved, "live", Name))
            {
                var trial = SchedulerState.Trial(runner, id!.GetValue<string>(), Name);
                bracket.Live.Add(trial);
                _bracketOf[trial.Id] = bracket;
            }
            foreach (var (id, score) in SchedulerState.Required<JsonObject>(saved, "scores", Name))
                bracket.Scores[id] = score?.GetValue<double>() ?? throw SchedulerState.Corrupt("scores", Name);
            _all.Add(bracket);
        }
    }

    private bool RoundDone(ITrialRunner runner, Bracket bracket) =>
        (bracket.IsFull || runner.SearchFinished)
        && bracket.Live.All(t => bracket.Scores.ContainsKey(t.Id));

    /// <summary>Keeps the best ⌈n/η⌉ live trials, stops the others, and moves the milestone η times further.</summary>
    private HashSet<Trial> Halve(ITrialRunner runner, Bracket bracket, Trial? reporting)
    {
        bracket.Halved = true;
        bracket.Halvings--;
        bracket.Target = (int)Math.Ceiling(Math.Min(bracket.Target, bracket.Live.Count) / _options.ReductionFactor);
        bracket.Milestone = (int)Math.Min(Math.Round(bracket.Milestone * _options.ReductionFactor), _options.MaxT);
        var ranked = bracket.Live.OrderByDescending(t => bracket.Scores[t.Id]).ToList();
        var good = ranked.Take(bracket.Target).ToHashSet();
        foreach (var trial in ranked.Skip(bracket.Target))
        {
            bracket.Live.Remove(trial);
            _bracketOf.Remove(trial.Id);
            if (!ReferenceEquals(trial, reporting))
                runner.StopTrial(trial);
        }
        bracket.Scores.Clear();
        return good;
    }

    private int InitialTrials(int s) => (int)Math.Ceiling((double)_brackets / (s + 1) * Math.Pow(_options.ReductionFactor, s));

    private int InitialMilestone(int s) => Math.Max(1, (int)(_options.MaxT * Math.Pow(_options.ReductionFactor, -s)));

    private sealed class Bracket(int initialTrials, int milestone, int halvings)
    {
        public int InitialTrials { get; } = initialTrials;

        public int Target { get; set; } = initialTrials;

        public int Milestone { get; set; } = milestone;

        public int Halvings { get; set; } = halvings;

        public int Added { get; set; }

        public bool Halved { get; set; }

        public bool Accepting => !Halved && Added < InitialTrials;

        public List<Trial> Live { get; } = [];

        public Dictionary<string, double> Scores { get; } = new(StringComparer.Ordinal);

        public bool IsFull => Added >= InitialTrials;
    }
}

/// <summary>Settings of <see cref="HyperBandScheduler"/>.</summary>
public sealed class HyperBandOptions
{
    /// <summary>Most iterations of any trial (R in the paper). Default 81.</summary>
    public int MaxT { get; init; } = 81;

    /// <summary>η: the fraction 1/η of a bracket is promoted each round. Default 3.</summary>
    public double ReductionFactor { get; init; } = 3;
}
