using System.CommandLine;
using System.Globalization;
using RaySharp.JoinOpt.Dq;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Cli;

/// <summary><c>joinopt plan FILE.sql</c>: plans one query with the chosen methods and cost models and prints each plan.</summary>
internal static class PlanCommand
{
    private const string Dq = "DQ";
    private const string All = "all";

    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "The .sql file to plan (one query)." };
        file.Validators.Add(r =>
        {
            var path = CommonOptions.PathOf(r);
            if (path is null)
                return;
            if (Directory.Exists(path))
                r.AddError($"'{path}' is a directory; plan takes one .sql file ('train --queries DIR' trains on a folder).");
            else if (!File.Exists(path))
                r.AddError($"No such file: '{path}'.");
        });
        var cost = CommonOptions.Cost(allowAll: true);
        var methodNames = JoinEnumerator.Classical.Select(m => m.Name).Append(Dq).Append(All).ToList();
        var method = new Option<string>("--method")
        {
            Description = $"The enumerator: {string.Join(", ", methodNames)} (all: every classical one, and DQ when --model is given).",
            DefaultValueFactory = _ => JoinEnumerator.Exhaustive.Name,
            HelpName = "NAME",
        };
        method.Validators.Add(r => CommonOptions.OneOf(r, methodNames, "method"));
        var model = new Option<FileInfo?>("--model")
        {
            Description = "A DQ model written by 'joinopt train' (for --method DQ or all).",
            HelpName = "FILE",
        };
        model.Validators.Add(r =>
        {
            var path = CommonOptions.PathOf(r);
            if (path is not null && Directory.Exists(path))
                r.AddError($"--model '{path}' is a directory; give the .safetensors file 'joinopt train' wrote.");
            else if (path is not null && !File.Exists(path))
                r.AddError($"--model '{path}' does not exist; make one with 'joinopt train'.");
        });
        var repeat = CommonOptions.AtLeastOne("--repeat", 5, "Timed runs per plan after one warm-up run; the median is reported.");
        var data = CommonOptions.Data();
        var command = new Command("plan", "Plan one SQL file and print each plan tree with its joins, estimated rows and cumulative costs.")
        {
            file, cost, method, model, repeat, data,
        };
        command.Validators.Add(r =>
        {
            var chosen = CommonOptions.Given(r, method);
            var hasModel = CommonOptions.Given(r, model) is not null;
            if (chosen is null)
                return;
            if (string.Equals(chosen, Dq, StringComparison.OrdinalIgnoreCase) && !hasModel)
                r.AddError("--method DQ needs --model FILE (make one with 'joinopt train').");
            else if (hasModel && !string.Equals(chosen, Dq, StringComparison.OrdinalIgnoreCase) && !string.Equals(chosen, All, StringComparison.OrdinalIgnoreCase))
                r.AddError($"--model is used only with --method DQ or all, not {chosen}.");
        });
        CommonOptions.RefuseOptionsAsValues(command);
        command.SetAction((result, _) => CommonOptions.RunAsync(result, output =>
        {
            var (catalog, directory) = CommonOptions.LoadCatalog(result, data);
            var costName = result.GetValue(cost)!;
            var models = string.Equals(costName, All, StringComparison.OrdinalIgnoreCase) ? CostModel.All : [CostModel.Parse(costName)];
            var methodName = result.GetValue(method)!;
            var methods = new List<JoinEnumerator>();
            if (string.Equals(methodName, All, StringComparison.OrdinalIgnoreCase))
                methods.AddRange(JoinEnumerator.Classical);
            else if (!string.Equals(methodName, Dq, StringComparison.OrdinalIgnoreCase))
                methods.Add(JoinEnumerator.Classical.First(m => string.Equals(m.Name, methodName, StringComparison.OrdinalIgnoreCase)));
            if (result.GetValue(model) is { } modelFile)
                methods.Add(DqOptimizer.Load(modelFile.FullName));
            var graph = QueryGraph.FromFile(result.GetValue(file)!.FullName, catalog);
            Print(output, graph, directory, models, methods, result.GetValue(repeat));
            return Task.FromResult(0);
        }));
        return command;
    }

    private static void Print(TextWriter output, QueryGraph graph, string directory, IReadOnlyList<CostModel> models, List<JoinEnumerator> methods, int repeat)
    {
        output.WriteLine($"{graph.Name}: {graph.Count} relations, {graph.Edges.Count} join edges (data: {directory})");
        foreach (var relation in graph.Relations)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {relation.Alias,-8} {relation.Table,-16} base={relation.BaseRows,12:G4} rows={relation.Rows,10:G4}"));
        foreach (var model in models)
        {
            foreach (var enumerator in methods)
            {
                // The first call pays for JIT compilation and first-touch allocation; the figure reported
                // is the median of the warm runs after it.
                var first = enumerator.Optimize(graph, model);
                var warm = new double[repeat];
                for (var i = 0; i < repeat; i++)
                    warm[i] = enumerator.Optimize(graph, model).PlanningTime.TotalMilliseconds;
                output.WriteLine();
                var note = enumerator is DqOptimizer dq && dq.TrainedFor != model.Name ? $" (network trained for {dq.TrainedFor})" : "";
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{first.Method} under {model.Name}{note}: cost {first.Cost:G6}, planned in {Median(warm):F3} ms (median of {repeat} warm runs; first call {first.PlanningTime.TotalMilliseconds:F3} ms)"));
                output.Write(first.Plan.ToTree(graph));
            }
        }
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
