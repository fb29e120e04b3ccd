using System.Globalization;
using System.Text;

namespace RaySharp.Tune;

/// <summary>The outcome of an experiment: every trial, the best one, and a table.</summary>
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

    /// <summary>Every trial, in creation order.</summary>
    public IReadOnlyList<Trial> Trials { get; }

    /// <summary>The experiment's metric.</summary>
    public string Metric { get; }

    /// <summary>The experiment's mode.</summary>
    public TuneMode Mode { get; }

    /// <summary>Where results and checkpoints were written.</summary>
    public string ExperimentDirectory { get; }

    /// <summary>Wall-clock duration of the experiment.</summary>
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
