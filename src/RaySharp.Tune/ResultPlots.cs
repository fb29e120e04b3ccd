using ScottPlot;

namespace RaySharp.Tune;

/// <summary>PNG plots of an experiment (ScottPlot): each trial's learning curve, and the metric per trial.</summary>
internal static class ResultPlots
{
    public static IReadOnlyList<string> Save(ResultGrid results, string directory, int width, int height)
    {
        Directory.CreateDirectory(directory);
        var curves = Path.Combine(directory, "learning_curves.png");
        var search = Path.Combine(directory, "search.png");
        LearningCurves(results).SavePng(curves, width, height);
        Search(results).SavePng(search, width, height);
        return [curves, search];
    }

    /// <summary>The metric against the iteration, one line per trial (the best trial drawn last, thicker).</summary>
    private static Plot LearningCurves(ResultGrid results)
    {
        var plot = new Plot();
        var best = results.Trials.Any(t => t.LastResult?.TryGet(results.Metric) is not null) ? results.GetBestTrial() : null;
        foreach (var trial in results.Trials.Where(t => t != best).Append(best).OfType<Trial>())
        {
            var points = trial.Results.Where(r => r.TryGet(results.Metric) is { } v && double.IsFinite(v)).ToArray();
            if (points.Length == 0)
                continue;
            var line = plot.Add.ScatterLine(points.Select(r => (double)r.Iteration).ToArray(), points.Select(r => r[results.Metric]).ToArray());
            line.LineWidth = trial == best ? 3 : 1;
            line.MarkerSize = 0;
            if (trial == best)
                line.LegendText = $"best: trial {trial.Id}";
        }
        plot.Title($"Learning curves ({results.Trials.Count} trials)");
        plot.XLabel("iteration");
        plot.YLabel(results.Metric);
        if (best is not null)
            plot.ShowLegend();
        return plot;
    }

    /// <summary>Each trial's last metric against its creation order, with the best so far as a step line.</summary>
    private static Plot Search(ResultGrid results)
    {
        var plot = new Plot();
        var xs = new List<double>();
        var ys = new List<double>();
        for (var i = 0; i < results.Trials.Count; i++)
        {
            if (results.Trials[i].LastResult?.TryGet(results.Metric) is { } v && double.IsFinite(v))
            {
                xs.Add(i + 1);
                ys.Add(v);
            }
        }
        if (xs.Count > 0)
        {
            var trials = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray());
            trials.LegendText = "trial";
            var bestSoFar = new double[ys.Count];
            for (var i = 0; i < ys.Count; i++)
                bestSoFar[i] = i == 0 || results.Mode.IsBetter(ys[i], bestSoFar[i - 1]) ? ys[i] : bestSoFar[i - 1];
            var best = plot.Add.ScatterLine(xs.ToArray(), bestSoFar);
            best.ConnectStyle = ConnectStyle.StepHorizontal;
            best.LineWidth = 2;
            best.MarkerSize = 0;
            best.LegendText = "best so far";
            plot.ShowLegend();
        }
        plot.Title($"Search: {results.Metric} ({(results.Mode == TuneMode.Min ? "min" : "max")}) per trial");
        plot.XLabel("trial");
        plot.YLabel(results.Metric);
        return plot;
    }
}
