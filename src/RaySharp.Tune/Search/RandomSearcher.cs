using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Random and grid search (Ray's basic variant generator): every <see cref="Space.Grid{T}"/> axis is
/// expanded exhaustively and every other domain is sampled at random. Suggestion k uses grid combination
/// k mod (grid size), so an experiment of <c>NumSamples × grid size</c> trials runs each grid point
/// <c>NumSamples</c> times. Never learns from results.
/// </summary>
/// <param name="seed">Seed of the random draws.</param>
public sealed class RandomSearcher(int seed = 0) : ISearcher
{
    private SpaceEncoding? _space;
    private SeededRandom _random = new(seed);
    private long _suggested;

    /// <summary>Number of grid combinations of the space (1 without grid axes); valid after <see cref="Initialize"/>.</summary>
    public long GridSize => Encoding.GridSize;

    private SpaceEncoding Encoding => _space ?? throw new InvalidOperationException("Call Initialize before using the searcher.");

    /// <inheritdoc />
    public void Initialize(SearchSpace space, string metric, TuneMode mode)
    {
        TuneModes.Validate(mode);
        _space = new SpaceEncoding(space, allowGrid: true, nameof(RandomSearcher));
    }

    /// <inheritdoc />
    public Suggestion Suggest(string trialId)
    {
        var grid = Encoding.GridCombination(_suggested % Encoding.GridSize);
        _suggested++;
        return Suggestion.Of(Encoding.Decode(Encoding.SamplePoint(_random), grid));
    }

    /// <inheritdoc />
    public void OnTrialComplete(string trialId, TrialResult? lastResult, bool failed)
    {
    }

    /// <inheritdoc />
    public JsonObject SaveState() => new()
    {
        ["searcher"] = nameof(RandomSearcher),
        ["random"] = SearchHistory.SaveRandom(_random),
        ["suggested"] = _suggested,
    };

    /// <inheritdoc />
    public void RestoreState(JsonObject state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _ = Encoding;
        _random = SearchHistory.RestoreRandom(state);
        _suggested = state["suggested"]?.GetValue<long>() ?? throw SearchHistory.Corrupt("suggested");
    }
}
