using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>Reading helpers for the schedulers' saved states.</summary>
internal static class SchedulerState
{
    public static T Required<T>(JsonObject state, string name, string scheduler)
        where T : JsonNode =>
        state[name] as T ?? throw Corrupt(name, scheduler);

    public static InvalidDataException Corrupt(string name, string scheduler) =>
        new($"The saved {scheduler} state has no valid '{name}'; it was saved by another scheduler or with other settings, or is damaged.");

    /// <summary>The restored experiment's trial <paramref name="id"/>.</summary>
    public static Trial Trial(ITrialRunner runner, string id, string scheduler) =>
        runner.Trials.FirstOrDefault(t => t.Id == id)
        ?? throw new InvalidDataException($"The saved {scheduler} state names trial {id}, which the experiment state does not list.");

    public static JsonObject Scores(IEnumerable<KeyValuePair<string, double>> scores) =>
        new(scores.Select(s => KeyValuePair.Create(s.Key, (JsonNode?)s.Value)));

    public static JsonArray Ids(IEnumerable<string> ids) => new(ids.Select(id => (JsonNode?)id).ToArray());
}
