using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Reads an experiment directory back for <c>Tuner.Restore</c> and <see cref="ResultGrid.Open"/>:
/// the trials listed in <c>experiment_state.json</c> with their configs (typed), statuses, errors and results
/// (from <c>result.jsonl</c>), the latest checkpoint of each trial, and the searcher and scheduler state.
/// </summary>
internal sealed class ExperimentState
{
    public const int Version = 3; // 2 added the scheduler state, paused statuses and PBT restore points; 3 errors with their stack traces, elapsed time
    private const string StateFile = "experiment_state.json";

    private ExperimentState(List<Trial> trials, string metric, TuneMode mode, TimeSpan elapsed, JsonObject searcher, string? schedulerType, JsonObject? scheduler, HashSet<string> exploited)
    {
        Trials = trials;
        Metric = metric;
        Mode = mode;
        Elapsed = elapsed;
        Searcher = searcher;
        SchedulerType = schedulerType;
        Scheduler = scheduler;
        Exploited = exploited;
    }

    public IReadOnlyList<Trial> Trials { get; }

    /// <summary>The metric the experiment optimises.</summary>
    public string Metric { get; }

    public TuneMode Mode { get; }

    /// <summary>Wall-clock time the experiment has run so far, over all its runs (zero for states before version 3).</summary>
    public TimeSpan Elapsed { get; }

    public JsonObject Searcher { get; }

    /// <summary>Full type name of the scheduler that saved <see cref="Scheduler"/>; null when it saved no state.</summary>
    public string? SchedulerType { get; }

    public JsonObject? Scheduler { get; }

    /// <summary>Unfinished trials that resume from a PBT donor's checkpoint (<c>restore.bin</c>).</summary>
    public IReadOnlySet<string> Exploited { get; }

    /// <summary>A config as [path, type, value] triples, so ints stay ints and doubles stay doubles.</summary>
    public static JsonArray SaveConfig(TrialConfig config) => new(config.Paths.Select(p =>
    {
        var value = config[p];
        var (type, node) = value switch
        {
            null => ("null", (JsonNode?)null),
            int i => ("int", JsonValue.Create(i)),
            long l => ("long", JsonValue.Create(l)),
            double d => ("double", JsonValue.Create(d)),
            float f => ("double", JsonValue.Create((double)f)),
            bool b => ("bool", JsonValue.Create(b)),
            string s => ("string", JsonValue.Create(s)),
            _ => ("json", JsonSerializer.SerializeToNode(value)),
        };
        return (JsonNode?)new JsonArray(p, type, node);
    }).ToArray());

    public static TrialConfig LoadConfig(JsonArray saved) => new(saved.Select(entry =>
    {
        var triple = entry as JsonArray ?? throw Corrupt("a config entry is not [path, type, value]");
        var path = triple[0]!.GetValue<string>();
        var node = triple[2];
        object? value = triple[1]!.GetValue<string>() switch
        {
            "null" => null,
            "int" => node!.GetValue<int>(),
            "long" => node!.GetValue<long>(),
            "double" => node!.GetValue<double>(),
            "bool" => node!.GetValue<bool>(),
            "string" => node!.GetValue<string>(),
            _ => JsonValues.ToObject(node),
        };
        return new KeyValuePair<string, object?>(path, value);
    }));

    /// <summary>
    /// Loads <paramref name="directory"/> to continue it, checking it was written for <paramref name="metric"/>
    /// and <paramref name="mode"/>: unfinished trials keep the results up to the checkpoint they resume from,
    /// and folders of trials the state does not list yet are deleted (they will be created again).
    /// </summary>
    public static ExperimentState Load(string directory, string metric, TuneMode mode)
    {
        var state = Read(directory, restore: true);
        if (state.Metric != metric || state.Mode != mode)
            throw new ArgumentException(
                $"The experiment in {directory} optimises '{state.Metric}' ({Name(state.Mode)}), not '{metric}' ({Name(mode)}); restore it with the options it was started with.");

        // Trials created after the last save are not in the state; they will be created again.
        var known = state.Trials.Select(t => t.Id).ToHashSet(StringComparer.Ordinal);
        var trialsDir = Path.Combine(directory, "trials");
        if (Directory.Exists(trialsDir))
        {
            foreach (var dir in Directory.GetDirectories(trialsDir).Where(d => !known.Contains(Path.GetFileName(d))))
                Directory.Delete(dir, recursive: true);
        }
        return state;
    }

    /// <summary>
    /// Reads <paramref name="directory"/> without changing it (<see cref="ResultGrid.Open"/>): every trial the
    /// state lists, with its saved status, every result on disk and its latest checkpoint (read when used).
    /// </summary>
    public static ExperimentState Open(string directory) => Read(directory, restore: false);

    private static ExperimentState Read(string directory, bool restore)
    {
        var path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No experiment in {directory}: {StateFile} is missing.", path);
        var state = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw Corrupt("not a JSON object");
        if (state["version"]?.GetValue<int>() is not (1 or 2 or Version))
            throw Corrupt($"version {state["version"]} is not 1 to {Version}");
        var metric = state["metric"]?.GetValue<string>() ?? throw Corrupt("no metric");
        var mode = state["mode"]?.GetValue<string>() switch
        {
            "min" => TuneMode.Min,
            "max" => TuneMode.Max,
            var other => throw Corrupt($"the mode '{other}' is not min or max"),
        };

        var trials = new List<Trial>();
        var exploited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in state["trials"] as JsonArray ?? throw Corrupt("no trials"))
        {
            var t = node as JsonObject ?? throw Corrupt("a trial is not an object");
            var id = t["id"]!.GetValue<string>();
            var trial = new Trial(id, LoadConfig(t["config"] as JsonArray ?? throw Corrupt($"trial {id} has no config")))
            {
                Failures = t["failures"]?.GetValue<int>() ?? 0,
                Error = LoadError(t["error"]),
            };
            var status = Enum.Parse<TrialStatus>(t["status"]!.GetValue<string>());
            var trialDir = Path.Combine(directory, "trials", id);
            var results = ReadResults(trialDir, id).ToList();
            var finished = status is TrialStatus.Terminated or TrialStatus.Error;
            if (!restore || finished)
            {
                // As it is on disk. A finished trial keeps the checkpoint the state names (its file is not
                // touched again), else (or an unfinished one, opened) the latest its results reach; the
                // bytes are read when first used.
                foreach (var result in results)
                    trial.AddResult(result);
                trial.Status = status;
                trial.LatestCheckpoint = finished && t["latest_checkpoint"]?.GetValue<int>() is int saved && File.Exists(CheckpointFile(trialDir, saved))
                    ? Checkpoint.FromFile(CheckpointFile(trialDir, saved), saved)
                    : LatestCheckpoint(trialDir, ContiguousResults(results), lazy: true);
                trials.Add(trial);
                continue;
            }

            // Interrupted: resumes from its latest checkpoint on disk (or from the start). A trial a
            // scheduler had paused stays paused, for the restored scheduler to resume when it chooses.
            var checkpoint = LatestCheckpoint(trialDir, ContiguousResults(results), lazy: false);
            if (t["restore_from"]?.GetValue<int>() is int restoreFrom && File.Exists(Path.Combine(trialDir, "restore.bin")))
            {
                checkpoint = Checkpoint.Load(File.ReadAllBytes(Path.Combine(trialDir, "restore.bin")), restoreFrom);
                exploited.Add(id);
            }
            var upTo = checkpoint?.Iteration ?? 0;
            foreach (var result in results.Where(r => r.Iteration <= upTo))
                trial.AddResult(result);
            trial.Status = status == TrialStatus.Paused ? TrialStatus.Paused : TrialStatus.Pending;
            trial.LatestCheckpoint = checkpoint;
            trial.RestoreFrom = checkpoint;
            trial.Iteration = upTo;
            trials.Add(trial);
        }

        var scheduler = state["scheduler"] as JsonObject;
        return new ExperimentState(trials, metric, mode, TimeSpan.FromSeconds(state["elapsed_s"]?.GetValue<double>() ?? 0),
            state["searcher"] as JsonObject ?? throw Corrupt("no searcher state"),
            scheduler?["type"]?.GetValue<string>(), scheduler?["state"] as JsonObject, exploited);
    }

    /// <summary>A saved error: an object (version 3), or a "Type: message" line (versions 1 and 2).</summary>
    private static TrialError? LoadError(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject error:
                return new TrialError(error["type"]!.GetValue<string>(), error["message"]?.GetValue<string>() ?? "", error["details"]?.GetValue<string>() ?? "");
            default:
                var line = node.GetValue<string>();
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                return colon < 0 ? new TrialError("Exception", line, line) : new TrialError(line[..colon], line[(colon + 2)..], line);
        }
    }

    private static string Name(TuneMode mode) => mode == TuneMode.Min ? "min" : "max";

    /// <summary>The last iteration n such that results 1..n are all on disk.</summary>
    private static int ContiguousResults(List<TrialResult> results)
    {
        var n = 0;
        foreach (var result in results)
        {
            if (result.Iteration != n + 1)
                break;
            n++;
        }
        return n;
    }

    /// <summary>
    /// The trial's latest checkpoint that its results on disk reach (a checkpoint past them would resume
    /// the trial with a hole in its results), or null.
    /// </summary>
    private static Checkpoint? LatestCheckpoint(string trialDir, int resultsUpTo, bool lazy)
    {
        if (!Directory.Exists(trialDir))
            return null;
        var latest = Directory.GetFiles(trialDir, "checkpoint_*.bin")
            .Select(f => (File: f, Iteration: CheckpointIteration(f)))
            .Where(c => c.Iteration > 0 && c.Iteration <= resultsUpTo)
            .OrderByDescending(c => c.Iteration)
            .FirstOrDefault();
        if (latest.File is null)
            return null;
        return lazy ? Checkpoint.FromFile(latest.File, latest.Iteration) : Checkpoint.Load(File.ReadAllBytes(latest.File), latest.Iteration);
    }

    /// <summary>The file of a trial's checkpoint of <paramref name="iteration"/>.</summary>
    public static string CheckpointFile(string trialDir, int iteration) =>
        Path.Combine(trialDir, string.Create(CultureInfo.InvariantCulture, $"checkpoint_{iteration:D6}.bin"));

    /// <summary>The iteration in a <c>checkpoint_NNNNNN.bin</c> file name, or −1.</summary>
    public static int CheckpointIteration(string path) =>
        int.TryParse(Path.GetFileNameWithoutExtension(path)["checkpoint_".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1;

    private static IEnumerable<TrialResult> ReadResults(string trialDir, string trialId)
    {
        var path = Path.Combine(trialDir, "result.jsonl");
        if (!File.Exists(path))
            yield break;
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
                continue;
            JsonObject json;
            try
            {
                json = JsonNode.Parse(line) as JsonObject ?? throw Corrupt($"a line of {path} is not an object");
            }
            catch (JsonException)
            {
                yield break; // a line cut off by the interruption
            }
            var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, value) in json)
            {
                if (name is "trial_id" or "training_iteration" or "time_total_s")
                    continue;
                metrics[name] = value is null ? double.NaN : value.GetValue<double>();
            }
            yield return new TrialResult(trialId, json["training_iteration"]!.GetValue<int>(), metrics,
                TimeSpan.FromSeconds(json["time_total_s"]?.GetValue<double>() ?? 0));
        }
    }

    private static InvalidDataException Corrupt(string what) =>
        new($"The experiment state cannot be read: {what}. Was the directory written by RaySharp.Tune?");
}
