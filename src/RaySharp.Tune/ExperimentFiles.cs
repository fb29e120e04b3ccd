using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// The experiment directory: per trial <c>params.json</c>, <c>progress.csv</c>, <c>result.jsonl</c>,
/// <c>error.txt</c> (its failures) and its best checkpoints; for the experiment <c>experiment_state.json</c>
/// (trials, statuses, searcher state) and, at the end, <c>results.csv</c>. Text is UTF-8 without a
/// byte-order mark, so other tools (Python's <c>json.loads</c>, pandas) read every line as written.
/// </summary>
internal sealed class ExperimentFiles : IDisposable
{
    private readonly string _directory;
    private readonly int? _keepCheckpoints;
    private readonly string _metric;
    private readonly TuneMode _mode;
    private readonly Dictionary<string, TrialFiles> _open = new(StringComparer.Ordinal);

    /// <summary>UTF-8 without a byte-order mark: how every text file of the experiment is written.</summary>
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The file in a trial's folder that collects its failures.</summary>
    private const string ErrorFile = "error.txt";

    public ExperimentFiles(string directory, string metric, TuneMode mode, int? keepCheckpoints)
    {
        _directory = Path.GetFullPath(directory);
        _metric = metric;
        _mode = mode;
        _keepCheckpoints = keepCheckpoints;
        Directory.CreateDirectory(Path.Combine(_directory, "trials"));
    }

    public string TrialDirectory(string trialId) => Path.Combine(_directory, "trials", trialId);

    public void TrialCreated(Trial trial)
    {
        var dir = TrialDirectory(trial.Id);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "params.json"), trial.Config.ToJson().ToJsonString(Indented), Utf8);
    }

    public void Result(Trial trial, TrialResult result)
    {
        if (!_open.TryGetValue(trial.Id, out var files))
        {
            files = new TrialFiles(TrialDirectory(trial.Id), result.Metrics.Keys.ToArray());
            _open[trial.Id] = files;
        }
        files.Append(result);
    }

    /// <summary>
    /// Rewrites a restored trial's <c>progress.csv</c> and <c>result.jsonl</c> to exactly the results it
    /// resumes with: a killed run can leave results past the checkpoint it resumes from (they will be
    /// reported again) or a line cut off mid-write.
    /// </summary>
    public void RewriteResults(Trial trial)
    {
        var dir = TrialDirectory(trial.Id);
        if (!Directory.Exists(dir))
            return;
        if (_open.Remove(trial.Id, out var open))
            open.Dispose();
        File.Delete(Path.Combine(dir, "progress.csv"));
        File.Delete(Path.Combine(dir, "result.jsonl"));
        foreach (var result in trial.Results)
            Result(trial, result);
        if (_open.TryGetValue(trial.Id, out var files))
            files.Flush();
    }

    /// <summary>
    /// Writes a checkpoint; with a limit of N, deletes the trial's older checkpoints except the N best by
    /// the metric (the latest is always kept: a resumed trial needs it). The trial's results are flushed
    /// first and the file appears whole (written aside, then renamed), so a process killed at any point
    /// never leaves a checkpoint on disk ahead of the results it follows, nor half a checkpoint.
    /// </summary>
    public void Checkpoint(Trial trial, Checkpoint checkpoint, TrialResult result)
    {
        _open.TryGetValue(trial.Id, out var files);
        files?.Flush();
        var path = CheckpointPath(trial.Id, checkpoint.Iteration);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, checkpoint.Bytes);
        File.Move(temp, path, overwrite: true);
        if (_keepCheckpoints is not { } keep || files is null)
            return;
        if (files.Latest is { } previous)
            files.Checkpoints.Add(previous);
        files.Latest = (path, result.TryGet(_metric) is { } v ? _mode.ToLoss(v) : double.PositiveInfinity);
        while (files.Checkpoints.Count > keep)
        {
            var worst = files.Checkpoints.MaxBy(c => c.Score);
            files.Checkpoints.Remove(worst);
            if (worst.Path != path)
                File.Delete(worst.Path);
        }
    }

    /// <summary>Where a PBT-exploited trial's donor checkpoint is kept until the trial checkpoints again.</summary>
    public string RestorePath(string trialId) => Path.Combine(TrialDirectory(trialId), "restore.bin");

    /// <summary>
    /// Deletes the trial's checkpoints past <paramref name="iteration"/>: after PBT restarted the trial from
    /// another trial's checkpoint they belong to the line it abandoned, and a restore must not pick them.
    /// </summary>
    public void DiscardCheckpointsAfter(string trialId, int iteration)
    {
        foreach (var file in Directory.GetFiles(TrialDirectory(trialId), "checkpoint_*.bin"))
        {
            if (ExperimentState.CheckpointIteration(file) > iteration)
                File.Delete(file);
        }
        File.Delete(RestorePath(trialId));
    }

    public string CheckpointPath(string trialId, int iteration) => ExperimentState.CheckpointFile(TrialDirectory(trialId), iteration);

    public void TrialEnded(Trial trial)
    {
        if (_open.Remove(trial.Id, out var files))
            files.Dispose();
    }

    /// <summary>
    /// Writes <c>experiment_state.json</c> (atomically): trials, searcher and scheduler state. A trial in
    /// <paramref name="exploited"/> (PBT gave it another trial's checkpoint and it has not checkpointed
    /// since) gets that checkpoint saved as <c>restore.bin</c>, which a restore resumes it from.
    /// </summary>
    public void SaveState(IReadOnlyList<Trial> trials, ISearcher searcher, ITrialScheduler scheduler, string metric, TuneMode mode, IReadOnlyDictionary<string, Checkpoint> exploited, TimeSpan elapsed)
    {
        foreach (var (id, checkpoint) in exploited)
            File.WriteAllBytes(RestorePath(id), checkpoint.Bytes);
        var schedulerState = scheduler.SaveState();
        var state = new JsonObject
        {
            ["metric"] = metric,
            ["mode"] = mode == TuneMode.Min ? "min" : "max",
            ["version"] = ExperimentState.Version,
            ["elapsed_s"] = elapsed.TotalSeconds,
            ["trials"] = new JsonArray(trials.Select(t => (JsonNode?)new JsonObject
            {
                ["id"] = t.Id,
                ["status"] = t.Status.ToString(),
                ["iteration"] = t.Iteration,
                ["failures"] = t.Failures,
                ["error"] = t.Error is { } error ? new JsonObject
                {
                    ["type"] = error.Type,
                    ["message"] = error.Message,
                    ["details"] = error.Details,
                } : null,
                ["config"] = ExperimentState.SaveConfig(t.Config),
                ["last_result"] = t.LastResult is { } r ? new JsonObject(r.Metrics.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))) : null,
                ["latest_checkpoint"] = t.LatestCheckpoint?.Iteration,
                ["restore_from"] = exploited.TryGetValue(t.Id, out var restore) ? restore.Iteration : null,
            }).ToArray()),
            ["searcher"] = searcher.SaveState(),
            ["scheduler"] = schedulerState is null ? null : new JsonObject
            {
                ["type"] = scheduler.GetType().FullName,
                ["state"] = schedulerState,
            },
        };
        foreach (var files in _open.Values)
            files.Flush();
        var path = Path.Combine(_directory, "experiment_state.json");
        var temp = path + ".tmp";
        File.WriteAllText(temp, state.ToJsonString(Indented), Utf8);
        File.Move(temp, path, overwrite: true);
    }

    public void WriteSummary(string table) => File.WriteAllText(Path.Combine(_directory, "results.csv"), table, Utf8);

    /// <summary>
    /// Appends the trial's latest failure (<see cref="Trial.Error"/>, its <see cref="Trial.Failures"/>-th) to
    /// <c>error.txt</c> in its folder, as Ray Tune does: a header line, then the full error text.
    /// </summary>
    public void TrialFailed(Trial trial)
    {
        var error = trial.Error ?? throw new InvalidOperationException($"Trial {trial.Id} has no error to write.");
        var dir = TrialDirectory(trial.Id);
        Directory.CreateDirectory(dir);
        var text = string.Create(CultureInfo.InvariantCulture,
            $"Failure {trial.Failures} of trial {trial.Id} after iteration {trial.Iteration} ({DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC):{Environment.NewLine}{error.Details}{Environment.NewLine}{Environment.NewLine}");
        File.AppendAllText(Path.Combine(dir, ErrorFile), text, Utf8);
    }

    public void Dispose()
    {
        foreach (var files in _open.Values)
            files.Dispose();
        _open.Clear();
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private sealed class TrialFiles : IDisposable
    {
        private readonly StreamWriter _csv;
        private readonly StreamWriter _json;
        private readonly string[] _columns;

        public TrialFiles(string directory, string[] columns)
        {
            _columns = columns;
            var csvPath = Path.Combine(directory, "progress.csv");
            var exists = File.Exists(csvPath);
            _csv = new StreamWriter(csvPath, append: true, Utf8);
            _json = new StreamWriter(Path.Combine(directory, "result.jsonl"), append: true, Utf8);
            if (!exists)
                _csv.WriteLine("iteration,time_s," + string.Join(",", columns.Select(Csv.Escape)));
        }

        /// <summary>Older checkpoints on disk, candidates for deletion.</summary>
        public List<(string Path, double Score)> Checkpoints { get; } = [];

        public (string Path, double Score)? Latest { get; set; }

        public void Append(TrialResult result)
        {
            var line = new StringBuilder();
            line.Append(result.Iteration).Append(',').Append(result.Elapsed.TotalSeconds.ToString("R", CultureInfo.InvariantCulture));
            foreach (var column in _columns)
            {
                line.Append(',');
                if (result.TryGet(column) is { } v)
                    line.Append(v.ToString("R", CultureInfo.InvariantCulture));
            }
            _csv.WriteLine(line.ToString());
            var json = new JsonObject
            {
                ["trial_id"] = result.TrialId,
                ["training_iteration"] = result.Iteration,
                ["time_total_s"] = result.Elapsed.TotalSeconds,
            };
            foreach (var (name, value) in result.Metrics)
                json[name] = double.IsFinite(value) ? value : null;
            _json.WriteLine(json.ToJsonString());
        }

        public void Flush()
        {
            _csv.Flush();
            _json.Flush();
        }

        public void Dispose()
        {
            _csv.Dispose();
            _json.Dispose();
        }
    }
}

internal static class Csv
{
    public static string Escape(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;
}
