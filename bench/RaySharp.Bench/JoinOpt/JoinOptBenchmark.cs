using System.Globalization;
using System.Text;
using RaySharp.JoinOpt;
using RaySharp.JoinOpt.Dq;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.Bench.JoinOpt;

/// <summary>
/// <c>joinopt</c>: every classical enumerator and DQ (4-fold cross-validated, held-out queries only) on
/// every JOB query for each cost model. Records relative cost (cost / exhaustive optimum) per method
/// and model, planning time against the number of relations, and DQ's speed-ups on the largest
/// queries; writes a relative-cost table and a planning-time plot next to the JSON.
/// </summary>
internal sealed class JoinOptBenchmark : IBenchmark
{
    private const string FineTuned = "DQ-ft";

    public string Verb => "joinopt";

    public string Description => "DQ vs classical join enumerators on the Join Order Benchmark (relative cost, planning time)";

    public async Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        // DQ's networks are small (batches of 128 × ~260 features); OpenBLAS threads only contend with
        // the folds that train side by side (measured: 8.7 s sequential vs 111 s). RaySharp's training
        // tasks set one thread in their workers; this covers --in-process and DQ's planning here.
        RaySharp.Nn.Blas.Threads = 1;
        var inProcess = context.Args.Contains("--in-process");
        await using var ray = inProcess ? null : await Ray.InitAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        DqTaskRunner runner = ray is null ? ThreadPoolTaskRunner.Default : new RayTaskRunner(ray);
        var data = Catalog.FindDataDirectory();
        var catalog = Catalog.Load(data);
        var queries = Directory.EnumerateFiles(Path.Combine(data, "queries"), "*.sql")
            .Order(StringComparer.Ordinal)
            .Select(f => QueryGraph.FromFile(f, catalog))
            .ToList();
        var options = context.Quick
            ? new DqOptions { HiddenSizes = [64, 32], Epochs = 12, SubplansPerQuery = 30, FineTuneEpochs = 4 }
            : new DqOptions();
        var repetitions = context.Quick ? 3 : 5;
        Console.WriteLine($"  {queries.Count} queries from {data}; {queries.Min(q => q.Count)}–{queries.Max(q => q.Count)} relations; DQ: hidden [{string.Join(",", options.HiddenSizes)}], {options.Epochs} epochs, {options.SubplansPerQuery} sub-plans per query; timing: median of {repetitions} runs per query; DQ training: {(ray is null ? "thread pool (--in-process)" : $"RaySharp tasks ({Environment.ProcessorCount} workers)")}");

        Warm(queries, cancellationToken);
        var methods = JoinEnumerator.Classical.Select(m => m.Name).Append("DQ").ToList();
        var relative = new Dictionary<(string Model, string Method), List<double>>();
        var times = new Dictionary<string, List<(int Relations, double Ms)>>();
        foreach (var method in methods)
            times[method] = [];

        foreach (var model in CostModel.All)
        {
            var optimum = new double[queries.Count];
            foreach (var enumerator in JoinEnumerator.Classical)
            {
                var ratios = new List<double>();
                for (var q = 0; q < queries.Count; q++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var (result, ms) = Timed(enumerator, queries[q], model, repetitions);
                    if (enumerator == JoinEnumerator.Exhaustive)
                        optimum[q] = result.Cost;
                    ratios.Add(Ratio(result.Cost, optimum[q]));
                    times[enumerator.Name].Add((queries[q].Count, ms));
                }
                relative[(model.Name, enumerator.Name)] = ratios;
            }

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var cv = DqCrossValidation.Run(catalog, queries, model, folds: 4, options, runner: runner, cancellationToken: cancellationToken);
            var trainSeconds = clock.Elapsed.TotalSeconds;
            Warm(cv.Models[0], queries, model, cancellationToken);
            var dqRatios = new List<double>();
            for (var q = 0; q < queries.Count; q++)
            {
                var held = cv.Results[q];
                var (_, ms) = Timed(cv.Models[held.Fold], queries[q], model, repetitions);
                dqRatios.Add(Ratio(held.Result.Cost, optimum[q]));
                times["DQ"].Add((queries[q].Count, ms));
            }
            relative[(model.Name, "DQ")] = dqRatios;
            report.Add($"{model.Name}_dq_train_4folds", "s", trainSeconds);

            if (model != CostModel.Cout)
            {
                // DQ's fine-tuning: pre-train on C_out's labels, then fine-tune on this model's.
                var tuned = DqCrossValidation.Run(catalog, queries, model, folds: 4, options, pretrainOn: CostModel.Cout, runner: runner, cancellationToken: cancellationToken);
                relative[(model.Name, FineTuned)] = tuned.Results.Select((r, q) => Ratio(r.Result.Cost, optimum[q])).ToList();
            }
        }

        foreach (var model in CostModel.All)
        {
            foreach (var method in methods.Append(FineTuned))
            {
                if (!relative.TryGetValue((model.Name, method), out var ratios))
                    continue;
                report.Add($"{model.Name}_{method}_relcost_mean", "x", ratios);
                report.Add($"{model.Name}_{method}_relcost_median", "x", Median(ratios));
                report.Add($"{model.Name}_{method}_relcost_max", "x", ratios.Max());
            }
        }

        var sizes = queries.Select(q => q.Count).Distinct().Order().ToList();
        foreach (var method in methods)
        {
            foreach (var n in sizes)
                report.Add($"plan_ms_{method}_n{n:D2}", "ms", times[method].Where(t => t.Relations == n).Select(t => t.Ms).ToList());
        }

        var largest = sizes[^1];
        double MeanAt(string method) => times[method].Where(t => t.Relations == largest).Average(t => t.Ms);
        var dqMs = MeanAt("DQ");
        var vsExhaustive = report.Add($"speedup_dq_vs_exhaustive_n{largest}", "x", MeanAt("Exhaustive") / dqMs).Mean;
        var vsLeft = report.Add($"speedup_dq_vs_leftdeep_n{largest}", "x", MeanAt("LeftDeep") / dqMs).Mean;
        var vsRight = report.Add($"speedup_dq_vs_rightdeep_n{largest}", "x", MeanAt("RightDeep") / dqMs).Mean;
        var slowestExhaustive = times["Exhaustive"].Max(t => t.Ms);
        report.Add("exhaustive_slowest_query_ms", "ms", slowestExhaustive);

        var table = RelativeCostTable(relative, methods) + Environment.NewLine + HeadToHeadTable(relative, methods);
        Console.WriteLine();
        Console.WriteLine(table);
        Directory.CreateDirectory(context.ResultsDirectory);
        File.WriteAllText(Path.Combine(context.ResultsDirectory, "joinopt-relcost.md"), table);
        var plot = Path.Combine(context.ResultsDirectory, "joinopt-planning-time.png");
        PlanningTimePlot.Write(plot, methods, times);
        Console.WriteLine($"  wrote {plot}");

        var dqMeans = CostModel.All.Select(m => (m.Name, Mean: relative[(m.Name, "DQ")].Average())).ToList();
        var heuristics = methods.Where(m => m is not ("Exhaustive" or "DQ")).ToList();
        var beatsAll = CostModel.All.Where(m => heuristics.All(h => relative[(m.Name, "DQ")].Average() < relative[(m.Name, h)].Average())).Select(m => m.Name).ToList();
        report.Note($"DQ mean relative cost (held-out folds): {string.Join(", ", dqMeans.Select(d => $"{d.Name} {d.Mean:F3}"))}; target ≤ 2.0 on every model: {(dqMeans.All(d => d.Mean <= 2.0) ? "met" : "NOT met")}.");
        report.Note($"DQ beats every heuristic but exhaustive DP (mean relative cost) on: {(beatsAll.Count == 0 ? "none" : string.Join(", ", beatsAll))}; target: at least two models: {(beatsAll.Count >= 2 ? "met" : "NOT met")}.");
        report.Add($"dq_us_per_step_n{largest}", "µs", dqMs * 1000 / (largest - 1));
        report.Note($"On the {largest}-relation queries DQ plans in {dqMs:F3} ms ({dqMs * 1000 / (largest - 1):F1} µs per join decision): {vsExhaustive:F0}× faster than exhaustive DP (target 10,000×: {(vsExhaustive >= 10_000 ? "met" : "NOT met")}), {vsLeft:F1}× than left-deep DP (target 10×: {(vsLeft >= 10 ? "met" : "NOT met")}), {vsRight:F1}× than right-deep DP.");
        report.Note($"Exhaustive DP finished all {queries.Count} queries under every cost model; slowest {slowestExhaustive:F1} ms.");
    }

    /// <summary>
    /// Runs every classical method repeatedly on a mid-sized query so that tiered JIT compilation has
    /// promoted the planning code before anything is timed.
    /// </summary>
    private static void Warm(List<QueryGraph> queries, CancellationToken cancellationToken)
    {
        foreach (var enumerator in JoinEnumerator.Classical)
            Warm(enumerator, queries, CostModel.CM1, cancellationToken);
    }

    private static void Warm(JoinEnumerator enumerator, List<QueryGraph> queries, CostModel model, CancellationToken cancellationToken)
    {
        var query = queries.First(q => q.Count >= 8);
        for (var i = 0; i < 50; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            enumerator.Optimize(query, model);
        }
    }

    /// <summary>Plans <paramref name="repetitions"/> times; returns the last plan and the median planning time.</summary>
    private static (PlanResult Result, double Ms) Timed(JoinEnumerator enumerator, QueryGraph query, CostModel model, int repetitions)
    {
        PlanResult? result = null;
        var ms = new List<double>();
        for (var i = 0; i < repetitions; i++)
        {
            result = enumerator.Optimize(query, model);
            ms.Add(result.PlanningTime.TotalMilliseconds);
        }
        return (result!, Median(ms));
    }

    private static double Ratio(double cost, double optimum) => optimum > 0 ? cost / optimum : 1;

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// DQ against each heuristic per cost model: both means to four digits and the number of queries
    /// where DQ's plan is cheaper / as cheap (within 1e-9) / dearer.
    /// </summary>
    private static string HeadToHeadTable(Dictionary<(string Model, string Method), List<double>> relative, List<string> methods)
    {
        var text = new StringBuilder();
        text.AppendLine("DQ (held-out) against each heuristic: mean relative cost DQ vs heuristic; queries where DQ is cheaper / equal / dearer:");
        text.AppendLine();
        AppendModelHeader(text, "heuristic");
        foreach (var method in methods.Where(m => m is not ("Exhaustive" or "DQ")))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {method} |");
            foreach (var model in CostModel.All)
            {
                var dq = relative[(model.Name, "DQ")];
                var other = relative[(model.Name, method)];
                var cheaper = dq.Where((d, q) => d < other[q] * (1 - 1e-9)).Count();
                var dearer = dq.Where((d, q) => d > other[q] * (1 + 1e-9)).Count();
                text.Append(CultureInfo.InvariantCulture, $" {dq.Average():F4} vs {other.Average():G5}; {cheaper} / {dq.Count - cheaper - dearer} / {dearer} |");
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>A markdown header row with one column per cost model after <paramref name="first"/>.</summary>
    private static void AppendModelHeader(StringBuilder text, string first)
    {
        text.Append(CultureInfo.InvariantCulture, $"| {first} |");
        foreach (var model in CostModel.All)
            text.Append(CultureInfo.InvariantCulture, $" {model.Name} |");
        text.AppendLine();
        text.Append("|---|");
        foreach (var _ in CostModel.All)
            text.Append("---:|");
        text.AppendLine();
    }

    private static string RelativeCostTable(Dictionary<(string Model, string Method), List<double>> relative, List<string> methods)
    {
        var text = new StringBuilder();
        text.AppendLine("Cost relative to the exhaustive optimum (mean / median / max over queries; DQ on held-out folds; DQ-ft: pre-trained on Cout, fine-tuned on the column's model):");
        text.AppendLine();
        AppendModelHeader(text, "method");
        foreach (var method in methods.Append(FineTuned))
        {
            text.Append(CultureInfo.InvariantCulture, $"| {method} |");
            foreach (var model in CostModel.All)
            {
                if (relative.TryGetValue((model.Name, method), out var r))
                    text.Append(CultureInfo.InvariantCulture, $" {r.Average():F2} / {Median(r):F2} / {r.Max():G3} |");
                else
                    text.Append(" n/a |");
            }
            text.AppendLine();
        }
        return text.ToString();
    }
}
