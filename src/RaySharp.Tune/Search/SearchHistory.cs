using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// What a model-based searcher has learned: the encoded point of every running trial and the
/// (point, loss) of every finished one. Losses are metric values turned so that smaller is better.
/// </summary>
internal sealed class SearchHistory
{
    private readonly Dictionary<string, double[]> _pending = new(StringComparer.Ordinal);
    private readonly List<(double[] Point, double Loss)> _observed = [];

    public IReadOnlyList<(double[] Point, double Loss)> Observed => _observed;

    public IEnumerable<double[]> Pending => _pending.Values;

    public void AddPending(string trialId, double[] point)
    {
        if (!_pending.TryAdd(trialId, point))
            throw new InvalidOperationException($"Trial {trialId} was already suggested; trial ids must be unique.");
    }

    /// <summary>Moves a trial from pending to observed (or drops it when it has no usable value).</summary>
    public void Complete(string trialId, TrialResult? result, bool failed, string metric, TuneMode mode)
    {
        if (!_pending.Remove(trialId, out var point))
            return; // not ours (e.g. suggested before a restore that did not include it)
        if (failed || result?.TryGet(metric) is not { } value || !double.IsFinite(value))
            return;
        _observed.Add((point, mode.ToLoss(value)));
    }

    public JsonObject Save() => new()
    {
        ["pending"] = new JsonObject(_pending.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)ToJson(p.Value)))),
        ["observed"] = new JsonArray(_observed.Select(o => (JsonNode?)new JsonObject
        {
            ["point"] = ToJson(o.Point),
            ["loss"] = o.Loss,
        }).ToArray()),
    };

    public void Restore(JsonObject state, int dimensions)
    {
        _pending.Clear();
        _observed.Clear();
        foreach (var (id, point) in Required<JsonObject>(state, "pending"))
            _pending.Add(id, FromJson(point, dimensions));
        foreach (var o in Required<JsonArray>(state, "observed"))
        {
            var entry = o as JsonObject ?? throw Corrupt("observed");
            _observed.Add((FromJson(entry["point"], dimensions), entry["loss"]?.GetValue<double>() ?? throw Corrupt("loss")));
        }
    }

    internal static T Required<T>(JsonObject state, string name)
        where T : JsonNode =>
        state[name] as T ?? throw Corrupt(name);

    internal static InvalidDataException Corrupt(string name) =>
        new($"The saved searcher state has no valid '{name}'; it was saved by a different searcher or is damaged.");

    private static JsonArray ToJson(double[] point) => new(point.Select(x => (JsonNode?)x).ToArray());

    private static double[] FromJson(JsonNode? node, int dimensions)
    {
        var array = node as JsonArray ?? throw Corrupt("point");
        if (array.Count != dimensions)
            throw new InvalidDataException(
                $"A saved point has {array.Count} coordinates but the search space has {dimensions}; restore with the space the experiment was saved with.");
        return array.Select(x => x!.GetValue<double>()).ToArray();
    }

    internal static JsonArray SaveRandom(SeededRandom random) => new(random.State.Select(s => (JsonNode?)s).ToArray());

    internal static SeededRandom RestoreRandom(JsonObject state) =>
        SeededRandom.FromState(Required<JsonArray>(state, "random").Select(s => s!.GetValue<ulong>()).ToArray());
}
