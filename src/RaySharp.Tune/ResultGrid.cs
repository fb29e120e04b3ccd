using System.Globalization;
using System.Text;

namespace RaySharp.Tune;

/// <summary>
/// The outcome of an experiment: every trial, the best one, checkpoints, rows and a table. Returned by
/// <see cref="Tuner.FitAsync"/>, or read from an experiment directory with <see cref="Open"/> (Ray's
/// <c>ExperimentAnalysis</c>) without running anything.
/// </summary>
public sealed class ResultGrid
{
    internal ResultGrid(IReadOnlyList<Trial> trials, string metric, TuneMode mode, string directory, TimeSpan elapsed)
    {
        Trials = trials;
        Metric = metric;
        Mode = mode;
        ExperimentDirectory = directory;
        Elapsed = elapsed;
    }

    /// <summary>
    /// Reads the experiment in <paramref name="experimentDirectory"/> (finished, interrupted, or still
    /// running elsewhere) without changing it: every trial its <c>experiment_state.json</c> lists, with the
    /// status, error and metric/mode saved there, every result in the trial's <c>result.jsonl</c>, and its
    /// latest checkpoint (bytes read when first used). Trials created after the state was last saved are not
    /// listed.
    /// <code>
    /// var grid = ResultGrid.Open("tune_results/lr_search");
    /// var model = grid.BestCheckpoint!.ToObject&lt;MyWeights&gt;();
    /// </code>
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory holds no <c>experiment_state.json</c>.</exception>
    /// <exception cref="InvalidDataException">The state file was not written by RaySharp.Tune.</exception>
    public static ResultGrid Open(string experimentDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(experimentDirectory);
        var directory = Path.GetFullPath(experimentDirectory);
        var state = ExperimentState.Open(directory);
        return new ResultGrid(state.Trials, state.Metric, state.Mode, directory, state.Elapsed);
    }

    /// <summary>Every trial, in creation order.</summary>
    public IReadOnlyList<Trial> Trials { get; }

    /// <summary>The experiment's metric.</summary>
    public string Metric { get; }

    /// <summary>The experiment's mode.</summary>
    public TuneMode Mode { get; }

    /// <summary>Where results and checkpoints were written.</summary>
    public string ExperimentDirectory { get; }

    /// <summary>Wall-clock duration of the experiment (over all its runs when it was restored; as last saved when opened).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>Trials that ended with an error.</summary>
    public IReadOnlyList<Trial> Errors => Trials.Where(t => t.Status == TrialStatus.Error).ToArray();

    /// <summary>Total results reported by all trials (trial-iterations run).</summary>
    public long TotalIterations => Trials.Sum(t => (long)t.Results.Count);

    /// <summary>
    /// The best trial by <paramref name="metric"/> (default: the experiment's) and <paramref name="mode"/>,
    /// scoring each trial by its last result (<paramref name="scope"/> "last") or its best ("all").
    /// </summary>
    /// <exception cref="InvalidOperationException">No trial reported the metric.</exception>
    public Trial GetBestTrial(string? metric = null, TuneMode? mode = null, string scope = "last")
    {
        metric ??= Metric;
        var m = mode ?? Mode;
        TuneModes.Validate(m);
        if (scope is not ("last" or "all"))
            throw new ArgumentException($"The scope must be \"last\" or \"all\", got \"{scope}\".", nameof(scope));
        Trial? best = null;
        var bestValue = 0.0;
        foreach (var trial in Trials)
        {
            var value = scope == "last" ? trial.LastResult?.TryGet(metric) : BestOf(trial, metric, m);
            if (value is not { } v || double.IsNaN(v))
                continue;
            if (best is null || m.IsBetter(v, bestValue))
                (best, bestValue) = (trial, v);
        }
        return best ?? throw new InvalidOperationException($"No trial reported the metric '{metric}'.");
    }

    /// <summary>The config of <see cref="GetBestTrial"/>.</summary>
    public TrialConfig BestConfig => GetBestTrial().Config;

    /// <summary>The last result of <see cref="GetBestTrial"/>.</summary>
    public TrialResult BestResult => GetBestTrial().LastResult!;

    /// <summary>The latest checkpoint of <see cref="GetBestTrial"/>, or null if it reported none.</summary>
    public Checkpoint? BestCheckpoint => GetBestTrial().LatestCheckpoint;

    /// <summary>
    /// The checkpoints of <paramref name="trial"/> still in its folder (with <see cref="TuneOptions.KeepCheckpoints"/>:
    /// the best few and the latest), oldest first; each one's bytes are read when first used.
    /// </summary>
    public IReadOnlyList<Checkpoint> GetCheckpoints(Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        var dir = Path.Combine(ExperimentDirectory, "trials", trial.Id);
        if (!Directory.Exists(dir))
            return [];
        return Directory.GetFiles(dir, "checkpoint_*.bin")
            .Select(f => (File: f, Iteration: ExperimentState.CheckpointIteration(f)))
            .Where(c => c.Iteration > 0)
            .OrderBy(c => c.Iteration)
            .Select(c => Checkpoint.FromFile(c.File, c.Iteration))
            .ToArray();
    }

    /// <summary>
    /// The checkpoint of <paramref name="trial"/> (among <see cref="GetCheckpoints"/>) whose iteration's result
    /// is best by <paramref name="metric"/> (default: the experiment's) and <paramref name="mode"/>; null if none
    /// of its checkpoints has a result with that metric.
    /// </summary>
    public Checkpoint? GetBestCheckpoint(Trial trial, string? metric = null, TuneMode? mode = null)
    {
        ArgumentNullException.ThrowIfNull(trial);
        metric ??= Metric;
        var m = mode ?? Mode;
        TuneModes.Validate(m);
        Checkpoint? best = null;
        var bestValue = 0.0;
        foreach (var checkpoint in GetCheckpoints(trial))
        {
            // After a retry the same iteration can appear twice; the checkpoint belongs to the later result.
            var value = trial.Results.LastOrDefault(r => r.Iteration == checkpoint.Iteration)?.TryGet(metric);
            if (value is not { } v || double.IsNaN(v))
                continue;
            if (best is null || m.IsBetter(v, bestValue))
                (best, bestValue) = (checkpoint, v);
        }
        return best;
    }

    /// <summary>
    /// The results as rows of a table (Ray's <c>dataframe()</c>): one per trial (its last result) or, with
    /// <paramref name="allResults"/>, one per result. Columns: <c>trial_id</c>, <c>status</c>,
    /// <c>training_iteration</c>, <c>time_total_s</c>, every reported metric (double; missing: absent), and
    /// <c>config/&lt;path&gt;</c> for every parameter. A trial with no result yet gives one row without metrics.
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> ToRows(bool allResults = false)
    {
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        foreach (var trial in Trials)
        {
            TrialResult?[] results = allResults && trial.Results.Count > 0 ? [.. trial.Results] : [trial.LastResult];
            foreach (var result in results)
            {
                var row = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["trial_id"] = trial.Id,
                    ["status"] = trial.Status.ToString(),
                    ["training_iteration"] = result?.Iteration ?? 0,
                    ["time_total_s"] = result?.Elapsed.TotalSeconds ?? 0.0,
                };
                if (result is not null)
                {
                    foreach (var (name, value) in result.Metrics)
                        row[name] = value;
                }
                foreach (var path in trial.Config.Paths)
                    row["config/" + path] = trial.Config[path];
                rows.Add(row);
            }
        }
        return rows;
    }

    /// <summary>
    /// Writes <c>learning_curves.png</c> (the metric against the iteration, one line per trial) and
    /// <c>search.png</c> (each trial's last metric in creation order, with the best so far) to
    /// <paramref name="directory"/> (default: the experiment directory) and returns their paths.
    /// </summary>
    public IReadOnlyList<string> SavePlots(string? directory = null, int width = 900, int height = 600)
    {
        if (width < 100 || height < 100)
            throw new ArgumentException($"A plot needs at least 100×100 pixels, got {width}×{height}.");
        return ResultPlots.Save(this, directory ?? ExperimentDirectory, width, height);
    }

    /// <summary>One row per trial: id, status, iterations, parameters, last and best metric (CSV).</summary>
    public string ToCsv()
    {
        var paths = Trials.SelectMany(t => t.Config.Paths).Distinct().ToArray();
        var text = new StringBuilder();
        text.AppendLine(string.Join(",", new[] { "trial_id", "status", "iterations" }.Concat(paths).Append(Metric).Append("best_" + Metric).Select(Csv.Escape)));
        foreach (var t in Trials)
        {
            var cells = new List<string> { t.Id, t.Status.ToString(), t.Iteration.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(paths.Select(p => t.Config.Contains(p) ? Csv.Escape(TrialConfig.Format(t.Config[p])) : ""));
            cells.Add(Number(t.LastResult?.TryGet(Metric)));
            cells.Add(Number(BestOf(t, Metric, Mode)));
            text.AppendLine(string.Join(",", cells));
        }
        return text.ToString();
    }

    /// <summary>A fixed-width text table of all trials, best first, for the terminal.</summary>
    public string ToTable(int maxRows = 20)
    {
        var (header, rows, more) = TableRows(maxRows);
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        text.AppendLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))));
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
            text.AppendLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))));
        if (more > 0)
            text.AppendLine(CultureInfo.InvariantCulture, $"… {more} more trials");
        return text.ToString();
    }

    /// <summary>The table's cells: header, the best <paramref name="maxRows"/> trials first, and how many were left out.</summary>
    internal (string[] Header, List<string[]> Rows, int More) TableRows(int maxRows)
    {
        var paths = Trials.SelectMany(t => t.Config.Paths).Distinct().ToArray();
        var header = new[] { "trial", "status", "iter" }.Concat(paths).Append(Metric).ToArray();
        var rows = Trials
            .OrderBy(t => t.LastResult?.TryGet(Metric) is { } v ? Mode.ToLoss(v) : double.PositiveInfinity)
            .Take(maxRows)
            .Select(t => new[] { t.Id, t.Status.ToString(), t.Iteration.ToString(CultureInfo.InvariantCulture) }
                .Concat(paths.Select(p => t.Config.Contains(p) ? TrialConfig.Format(t.Config[p]) : ""))
                .Append(Number(t.LastResult?.TryGet(Metric)))
                .ToArray())
            .ToList();
        return (header, rows, Trials.Count - rows.Count);
    }

    private static double? BestOf(Trial t, string metric, TuneMode mode)
    {
        double? best = null;
        foreach (var r in t.Results)
        {
            if (r.TryGet(metric) is { } v && (best is null || mode.IsBetter(v, best.Value)))
                best = v;
        }
        return best;
    }

    private static string Number(double? v) => v?.ToString("G6", CultureInfo.InvariantCulture) ?? "";
}
