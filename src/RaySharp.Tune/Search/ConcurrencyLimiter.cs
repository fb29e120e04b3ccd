using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Lets at most <c>maxConcurrent</c> trials of the wrapped searcher be live (suggested and not yet
/// complete); beyond that it answers <see cref="Suggestion.Wait"/>. Model-based searchers learn more per
/// trial when fewer run blind at once.
/// </summary>
public sealed class ConcurrencyLimiter : ISearcher
{
    private readonly ISearcher _inner;
    private readonly HashSet<string> _live = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The searcher to limit.</param>
    /// <param name="maxConcurrent">Most live trials, ≥ 1.</param>
    public ConcurrencyLimiter(ISearcher inner, int maxConcurrent)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (maxConcurrent < 1)
            throw new ArgumentOutOfRangeException(nameof(maxConcurrent), maxConcurrent, "A concurrency limit must be at least 1.");
        MaxConcurrent = maxConcurrent;
    }

    /// <summary>Most live trials.</summary>
    public int MaxConcurrent { get; }

    /// <summary>Trials suggested and not yet complete.</summary>
    public int Live => _live.Count;

    /// <inheritdoc />
    public void Initialize(SearchSpace space, string metric, TuneMode mode) => _inner.Initialize(space, metric, mode);

    /// <inheritdoc />
    public Suggestion Suggest(string trialId)
    {
        if (_live.Count >= MaxConcurrent)
            return Suggestion.Wait;
        var suggestion = _inner.Suggest(trialId);
        if (suggestion.Kind == SuggestionKind.Config)
            _live.Add(trialId);
        return suggestion;
    }

    /// <inheritdoc />
    public void OnTrialComplete(string trialId, TrialResult? lastResult, bool failed)
    {
        if (_live.Remove(trialId))
            _inner.OnTrialComplete(trialId, lastResult, failed);
    }

    /// <inheritdoc />
    public JsonObject SaveState() => new()
    {
        ["searcher"] = nameof(ConcurrencyLimiter),
        ["live"] = new JsonArray(_live.Select(id => (JsonNode?)id).ToArray()),
        ["inner"] = _inner.SaveState(),
    };

    /// <inheritdoc />
    public void RestoreState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _live.Clear();
        foreach (var id in SearchHistory.Required<JsonArray>(state, "live"))
            _live.Add(id!.GetValue<string>());
        _inner.RestoreState(SearchHistory.Required<JsonObject>(state, "inner"));
    }
}
