using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Runs every configuration of the wrapped searcher <c>repeat</c> times (e.g. under different data
/// seeds) and tells the wrapped searcher the mean of the metric once all repeats have finished, so a
/// noisy objective is learned from averages. The inner searcher knows each group by the id of its
/// first trial.
/// </summary>
public sealed class Repeater : ISearcher
{
    private readonly ISearcher _inner;
    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);   // group id → group
    private readonly Dictionary<string, string> _groupOf = new(StringComparer.Ordinal);  // trial id → group id
    private string? _filling;  // group still handing out repeats
    private string _metric = "";

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The searcher whose configurations are repeated.</param>
    /// <param name="repeat">Trials per configuration, ≥ 1.</param>
    public Repeater(ISearcher inner, int repeat)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (repeat < 1)
            throw new ArgumentOutOfRangeException(nameof(repeat), repeat, "A repeat count must be at least 1.");
        Repeat = repeat;
    }

    /// <summary>Trials per configuration.</summary>
    public int Repeat { get; }

    /// <inheritdoc />
    public void Initialize(SearchSpace space, string metric, TuneMode mode)
    {
        _inner.Initialize(space, metric, mode);
        _metric = metric;
    }

    /// <inheritdoc />
    public Suggestion Suggest(string trialId)
    {
        if (_filling is null || _groups[_filling].Members.Count >= Repeat)
        {
            var suggestion = _inner.Suggest(trialId);
            if (suggestion.Kind != SuggestionKind.Config)
                return suggestion;
            _filling = trialId;
            _groups[trialId] = new Group(suggestion.Config!);
        }
        var group = _groups[_filling];
        group.Members.Add(trialId);
        _groupOf[trialId] = _filling;
        return Suggestion.Of(group.Config);
    }

    /// <inheritdoc />
    public void OnTrialComplete(string trialId, TrialResult? lastResult, bool failed)
    {
        if (!_groupOf.Remove(trialId, out var groupId))
            return;
        var group = _groups[groupId];
        group.Completed++;
        if (!failed && lastResult?.TryGet(_metric) is { } value && double.IsFinite(value))
            group.Values.Add(value);
        if (group.Completed < Repeat)
            return;
        _groups.Remove(groupId);
        if (_filling == groupId)
            _filling = null;
        var mean = group.Values.Count > 0 ? group.Values.Average() : double.NaN;
        var result = new TrialResult(groupId, lastResult?.Iteration ?? 1, new Dictionary<string, double> { [_metric] = mean });
        _inner.OnTrialComplete(groupId, group.Values.Count > 0 ? result : null, failed: group.Values.Count == 0);
    }

    /// <inheritdoc />
    public JsonObject SaveState() => new()
    {
        ["searcher"] = nameof(Repeater),
        ["filling"] = _filling,
        ["groups"] = new JsonObject(_groups.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)new JsonObject
        {
            ["config"] = ExperimentState.SaveConfig(g.Value.Config),
            ["members"] = new JsonArray(g.Value.Members.Select(m => (JsonNode?)m).ToArray()),
            ["open"] = new JsonArray(g.Value.Members.Where(_groupOf.ContainsKey).Select(m => (JsonNode?)m).ToArray()),
            ["completed"] = g.Value.Completed,
            ["values"] = new JsonArray(g.Value.Values.Select(v => (JsonNode?)v).ToArray()),
        }))),
        ["inner"] = _inner.SaveState(),
    };

    /// <inheritdoc />
    public void RestoreState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _groups.Clear();
        _groupOf.Clear();
        _filling = state["filling"]?.GetValue<string>();
        foreach (var (id, node) in SearchHistory.Required<JsonObject>(state, "groups"))
        {
            var g = node as JsonObject ?? throw SearchHistory.Corrupt("groups");
            var group = new Group(ExperimentState.LoadConfig(SearchHistory.Required<JsonArray>(g, "config")))
            {
                Completed = g["completed"]!.GetValue<int>(),
            };
            group.Members.AddRange(SearchHistory.Required<JsonArray>(g, "members").Select(m => m!.GetValue<string>()));
            group.Values.AddRange(SearchHistory.Required<JsonArray>(g, "values").Select(v => v!.GetValue<double>()));
            foreach (var open in SearchHistory.Required<JsonArray>(g, "open"))
                _groupOf[open!.GetValue<string>()] = id;
            _groups[id] = group;
        }
        _inner.RestoreState(SearchHistory.Required<JsonObject>(state, "inner"));
    }

    private sealed class Group(TrialConfig config)
    {
        public TrialConfig Config { get; } = config;

        public List<string> Members { get; } = [];

        public List<double> Values { get; } = [];

        public int Completed { get; set; }
    }
}
