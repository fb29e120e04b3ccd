using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// The bookkeeping shared by the model-based searchers (<see cref="GpSearcher"/>, <see cref="TpeSearcher"/>):
/// the space encoding, the observations of finished and running trials, the random start-up phase, and
/// saving and restoring that state. The searcher supplies only the model-based proposal. A helper held
/// by composition, because a public searcher cannot derive from an internal base class.
/// </summary>
internal sealed class ModelBasedSearch
{
    private readonly string _searcherName;
    private readonly int _startupTrials;
    private SpaceEncoding? _space;
    private string _metric = "";
    private TuneMode _mode;

    /// <summary>Creates the state of the searcher named <paramref name="searcherName"/> (also its saved-state name).</summary>
    public ModelBasedSearch(string searcherName, int startupTrials, int seed)
    {
        _searcherName = searcherName;
        _startupTrials = startupTrials;
        Random = new SeededRandom(seed);
    }

    public SearchHistory History { get; } = new();

    /// <summary>The searcher's random generator; replaced by <see cref="RestoreState"/>.</summary>
    public SeededRandom Random { get; private set; }

    public SpaceEncoding Encoding => _space ?? throw new InvalidOperationException("Call Initialize before using the searcher.");

    public void Initialize(SearchSpace space, string metric, TuneMode mode)
    {
        TuneModes.ValidateMetric(metric);
        TuneModes.Validate(mode);
        _space = new SpaceEncoding(space, allowGrid: false, _searcherName);
        (_metric, _mode) = (metric, mode);
    }

    /// <summary>A random point during the start-up phase, else <paramref name="proposePoint"/>'s; recorded as pending.</summary>
    public Suggestion Suggest(string trialId, Func<double[]> proposePoint)
    {
        var point = History.Observed.Count < _startupTrials
            ? Encoding.SamplePoint(Random)
            : proposePoint();
        var config = Encoding.Decode(point);
        History.AddPending(trialId, Encoding.Encode(config));
        return Suggestion.Of(config);
    }

    public void OnTrialComplete(string trialId, TrialResult? lastResult, bool failed) =>
        History.Complete(trialId, lastResult, failed, _metric, _mode);

    public JsonObject SaveState()
    {
        var state = History.Save();
        state["searcher"] = _searcherName;
        state["random"] = SearchHistory.SaveRandom(Random);
        return state;
    }

    public void RestoreState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        History.Restore(state, Encoding.Dimensions.Count);
        Random = SearchHistory.RestoreRandom(state);
    }
}
