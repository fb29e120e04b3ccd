using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace RaySharp.Bench.JoinOpt;

/// <summary>The planning-time plot: mean planning time (log scale) against the number of relations, one line per method.</summary>
internal static class PlanningTimePlot
{
    public static void Write(string path, IReadOnlyList<string> methods, IReadOnlyDictionary<string, List<(int Relations, double Ms)>> times)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < methods.Count; i++)
        {
            var points = times[methods[i]]
                .GroupBy(t => t.Relations)
                .OrderBy(g => g.Key)
                .Select(g => (X: (double)g.Key, Y: Math.Log10(Math.Max(g.Average(t => t.Ms), 1e-6))))
                .ToArray();
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray(), palette.GetColor(i));
            line.LegendText = methods[i];
            line.LineWidth = methods[i] == "DQ" ? 3 : 1.5f;
            line.MarkerSize = 6;
        }
        plot.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
        };
        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { IntegerTicksOnly = true };
        plot.Title("JOB: planning time vs number of relations");
        plot.XLabel("relations in the query");
        plot.YLabel("mean planning time (ms, log scale)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 1000, 650);
    }
}
