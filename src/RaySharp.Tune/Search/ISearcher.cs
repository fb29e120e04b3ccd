using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Proposes configurations and learns from finished trials (Ray's <c>Searcher</c>). The experiment
/// calls <see cref="Initialize"/> once, then <see cref="Suggest"/> whenever it can start a trial and
/// <see cref="OnTrialComplete"/> when a trial ends. State round-trips through JSON so it is saved with
/// the experiment.
/// </summary>
public interface ISearcher
{
    /// <summary>Binds the searcher to a space and an objective; validates both.</summary>
    /// <exception cref="ArgumentException">The space cannot be searched by this searcher, or the metric/mode is invalid.</exception>
    void Initialize(SearchSpace space, string metric, TuneMode mode);

    /// <summary>A configuration for the new trial <paramref name="trialId"/>, or wait, or finished.</summary>
    Suggestion Suggest(string trialId);

    /// <summary>Trial <paramref name="trialId"/> ended with <paramref name="lastResult"/> (null if it reported nothing).</summary>
    /// <param name="trialId">A trial this searcher suggested.</param>
    /// <param name="lastResult">Its last result.</param>
    /// <param name="failed">True if the trial ended with an error; its result is then not learned from.</param>
    void OnTrialComplete(string trialId, TrialResult? lastResult, bool failed);

    /// <summary>Everything needed to continue the search later.</summary>
    JsonObject SaveState();

    /// <summary>Continues from <see cref="SaveState"/>'s output; call after <see cref="Initialize"/> with the same space.</summary>
    void RestoreState(JsonObject state);
}

/// <summary>What a searcher answers when asked for a trial.</summary>
public enum SuggestionKind
{
    /// <summary>A configuration to run.</summary>
    Config,

    /// <summary>Nothing now; ask again after a trial completes.</summary>
    Wait,

    /// <summary>The search is over.</summary>
    Finished,
}

/// <summary>A searcher's answer: a configuration, wait, or finished.</summary>
/// <param name="Kind">Which answer.</param>
/// <param name="Config">The configuration when <paramref name="Kind"/> is <see cref="SuggestionKind.Config"/>.</param>
public readonly record struct Suggestion(SuggestionKind Kind, TrialConfig? Config)
{
    /// <summary>Ask again later.</summary>
    public static Suggestion Wait => new(SuggestionKind.Wait, null);

    /// <summary>No more trials.</summary>
    public static Suggestion Finished => new(SuggestionKind.Finished, null);

    /// <summary>Run <paramref name="config"/>.</summary>
    public static Suggestion Of(TrialConfig config) => new(SuggestionKind.Config, config ?? throw new ArgumentNullException(nameof(config)));
}
