using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Population-based training (Jaderberg et al., arXiv:1711.09846; Ray's <c>PopulationBasedTraining</c>).
/// Every <see cref="PbtOptions.PerturbationInterval"/> iterations a trial is ranked against the
/// population's latest scores. A trial in the bottom <see cref="PbtOptions.QuantileFraction"/>
/// <em>exploits</em>: it is paused and restarted from the latest checkpoint of a random trial in the top
/// fraction, with that trial's config <em>explored</em>: each mutated parameter is resampled from its
/// domain with probability <see cref="PbtOptions.ResampleProbability"/>, otherwise multiplied by 0.8 or
/// 1.2 (numbers) or moved to a neighbouring value (choices). Trainables must report checkpoints.
/// </summary>
public sealed class PbtScheduler : ITrialScheduler
{
    private readonly PbtOptions _options;
    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private SeededRandom _random;
    private string _metric = "";
    private TuneMode _mode;

    /// <summary>Creates the scheduler.</summary>
    public PbtScheduler(PbtOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _random = new SeededRandom(_options.Seed);
    }

    /// <summary>Exploits performed: (trial, donor, iteration).</summary>
    public IReadOnlyList<(string Trial, string Donor, int Iteration)> Exploits => _exploits;

    private readonly List<(string Trial, string Donor, int Iteration)> _exploits = [];

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
        foreach (var path in _options.Mutations.Keys)
        {
            if (!trial.Config.Contains(path))
                throw new ArgumentException(
                    $"PBT mutates '{path}', but trial {trial.Id}'s config has no such parameter; it has {string.Join(", ", trial.Config.Paths)}.");
        }
        _states[trial.Id] = new State();
    }

    /// <inheritdoc />
    public TrialDecision OnTrialResult(ITrialRunner runner, Trial trial, TrialResult result)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(result);
        if (!_states.TryGetValue(trial.Id, out var state))
            return TrialDecision.Continue;
        var value = SchedulerHelpers.Metric(result, _metric, nameof(PbtScheduler));
        state.Score = _mode == TuneMode.Max ? value : -value;
        if (result.Iteration - state.LastPerturbation < _options.PerturbationInterval)
            return TrialDecision.Continue;
        state.LastPerturbation = result.Iteration;

        var ranked = runner.Trials
            .Where(t => _states.TryGetValue(t.Id, out var s) && s.Score is not null && t.Status is not (TrialStatus.Error or TrialStatus.Terminated))
            .OrderBy(t => _states[t.Id].Score)
            .ToList();
        if (ranked.Count < 2)
            return TrialDecision.Continue;
        var quantile = (int)Math.Ceiling(ranked.Count * _options.QuantileFraction);
        quantile = Math.Min(quantile, ranked.Count / 2);
        if (quantile == 0 || !ranked.Take(quantile).Contains(trial))
            return TrialDecision.Continue;

        var top = ranked.Skip(ranked.Count - quantile).ToList();
        var donor = top[_random.Next(top.Count)];
        var checkpoint = donor.LatestCheckpoint ?? throw new InvalidOperationException(
            $"PBT cannot exploit trial {donor.Id}: it has reported no checkpoint. Report a checkpoint with the results (at least every {_options.PerturbationInterval} iterations).");
        runner.ResetTrial(trial, Explore(donor.Config), checkpoint);
        state.LastPerturbation = checkpoint.Iteration;
        state.Score = _states[donor.Id].Score;
        _exploits.Add((trial.Id, donor.Id, result.Iteration));
        return TrialDecision.Pause;
    }

    /// <inheritdoc />
    public void OnTrialComplete(ITrialRunner runner, Trial trial)
    {
    }

    /// <inheritdoc />
    public Trial? ChooseTrialToRun(ITrialRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        // Pending first; then the paused trial that is furthest behind, keeping the population in step.
        return runner.Trials.FirstOrDefault(t => t.Status == TrialStatus.Pending)
            ?? runner.Trials.Where(t => t.Status == TrialStatus.Paused).OrderBy(t => t.Iteration).FirstOrDefault();
    }

    /// <inheritdoc />
    public JsonObject SaveState() => new()
    {
        ["scheduler"] = nameof(PbtScheduler),
        ["random"] = SearchHistory.SaveRandom(_random),
        ["trials"] = new JsonObject(_states.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)new JsonObject
        {
            ["score"] = s.Value.Score,
            ["last_perturbation"] = s.Value.LastPerturbation,
        }))),
        ["exploits"] = new JsonArray(_exploits.Select(e => (JsonNode?)new JsonArray(e.Trial, e.Donor, e.Iteration)).ToArray()),
    };

    /// <inheritdoc />
    public void RestoreState(ITrialRunner runner, JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(state);
        const string Name = nameof(PbtScheduler);
        _random = SearchHistory.RestoreRandom(state);
        _states.Clear();
        foreach (var (id, node) in SchedulerState.Required<JsonObject>(state, "trials", Name))
        {
            var saved = node as JsonObject ?? throw SchedulerState.Corrupt("trials", Name);
            _states[id] = new State
            {
                Score = saved["score"]?.GetValue<double>(),
                LastPerturbation = saved["last_perturbation"]?.GetValue<int>() ?? throw SchedulerState.Corrupt("last_perturbation", Name),
            };
        }
        _exploits.Clear();
        foreach (var node in SchedulerState.Required<JsonArray>(state, "exploits", Name))
        {
            var e = node as JsonArray ?? throw SchedulerState.Corrupt("exploits", Name);
            _exploits.Add((e[0]!.GetValue<string>(), e[1]!.GetValue<string>(), e[2]!.GetValue<int>()));
        }
    }

    /// <summary>A copy of <paramref name="config"/> with every mutated parameter perturbed or resampled.</summary>
    internal TrialConfig Explore(TrialConfig config)
    {
        foreach (var (path, domain) in _options.Mutations)
        {
            var value = config[path];
            object? next = domain switch
            {
                _ when _random.NextDouble() < _options.ResampleProbability => domain.Sample(_random),
                NumericDomain numeric => numeric.Scale(value, _random.NextDouble() < 0.5 ? 0.8 : 1.2),
                CategoricalDomain categorical => Neighbour(categorical, value),
                _ => throw new InvalidOperationException($"PBT cannot mutate '{path}' with {domain}."),
            };
            config = config.With(path, next);
        }
        return config;
    }

    private object? Neighbour(CategoricalDomain domain, object? value)
    {
        var index = domain.IndexOf(value) + (_random.NextDouble() < 0.5 ? -1 : 1);
        return domain.Values[Math.Clamp(index, 0, domain.Values.Count - 1)];
    }

    private sealed class State
    {
        public double? Score { get; set; }

        public int LastPerturbation { get; set; }
    }
}

/// <summary>Settings of <see cref="PbtScheduler"/>.</summary>
public sealed class PbtOptions
{
    /// <summary>Parameter path → domain to perturb or resample from (numeric ranges and choices). Required.</summary>
    public required IReadOnlyDictionary<string, Domain> Mutations { get; init; }

    /// <summary>Iterations between exploit/explore decisions of a trial. Default 10.</summary>
    public int PerturbationInterval { get; init; } = 10;

    /// <summary>Fraction of the population in the bottom (exploits) and top (donors) groups. Default 0.25.</summary>
    public double QuantileFraction { get; init; } = 0.25;

    /// <summary>Probability that a mutated parameter is resampled rather than perturbed. Default 0.25.</summary>
    public double ResampleProbability { get; init; } = 0.25;

    /// <summary>Seed of donor choice and exploration. Default 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (Mutations is null || Mutations.Count == 0)
            throw new ArgumentException("PBT needs at least one parameter to mutate, e.g. Mutations = { [\"lr\"] = Space.LogUniform(1e-4, 1e-1) }.");
        foreach (var (path, domain) in Mutations)
        {
            if (domain is not (NumericDomain or CategoricalDomain))
                throw new ArgumentException($"PBT can mutate numeric ranges and choices only; '{path}' is {domain}.");
        }
        if (PerturbationInterval < 1)
            throw new ArgumentException($"PBT's perturbation interval must be at least 1 iteration, got {PerturbationInterval}.");
        if (QuantileFraction is not (> 0 and <= 0.5))
            throw new ArgumentException($"PBT's quantile fraction must be in (0, 0.5], got {QuantileFraction}.");
        if (ResampleProbability is not (>= 0 and <= 1))
            throw new ArgumentException($"PBT's resample probability must be in [0, 1], got {ResampleProbability}.");
    }
}
