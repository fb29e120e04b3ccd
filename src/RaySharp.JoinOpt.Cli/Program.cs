using System.Globalization;
using RaySharp.JoinOpt;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Cli;

/// <summary>
/// <c>joinopt plan FILE.sql [--cost Cout|CM1|CM2|CM3|all] [--method NAME|all] [--data DIR]</c>: plans one
/// SQL file and prints each plan tree with estimated rows and cumulative costs.
/// </summary>
internal static class Program
{
    private const string Usage = "usage: joinopt plan FILE.sql [--cost Cout|CM1|CM2|CM3|all] [--method Exhaustive|LeftDeep|RightDeep|ZigZag|IK-KBZ|MinSel|QuickPick|all] [--data DIR]";

    public static int Main(string[] args)
    {
        if (args.Length < 2 || args[0] != "plan")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        try
        {
            var file = args[1];
            var cost = Option(args, "--cost") ?? "CM1";
            var method = Option(args, "--method") ?? "Exhaustive";
            var data = Option(args, "--data") ?? Catalog.FindDataDirectory(Directory.GetCurrentDirectory());
            var catalog = Catalog.Load(data);
            var graph = QueryGraph.FromFile(file, catalog);
            Console.WriteLine($"{graph.Name}: {graph.Count} relations, {graph.Edges.Count} join edges (data: {data})");
            foreach (var relation in graph.Relations)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {relation.Alias,-8} {relation.Table,-16} base={relation.BaseRows,12:G4} rows={relation.Rows,10:G4}"));
            var models = cost == "all" ? CostModel.All : [CostModel.Parse(cost)];
            var methods = method == "all"
                ? JoinEnumerator.Classical
                : [JoinEnumerator.Classical.FirstOrDefault(m => string.Equals(m.Name, method, StringComparison.OrdinalIgnoreCase))
                   ?? throw new ArgumentException($"Unknown method '{method}'. {Usage}")];
            foreach (var model in models)
            {
                foreach (var enumerator in methods)
                {
                    var result = enumerator.Optimize(graph, model);
                    Console.WriteLine();
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Method} under {model.Name}: cost {result.Cost:G6}, planned in {result.PlanningTime.TotalMilliseconds:F3} ms"));
                    Console.Write(result.Plan.ToTree(graph));
                }
            }
            return 0;
        }
        catch (Exception e) when (e is JoinOptException or ArgumentException or IOException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        if (i < 0)
            return null;
        if (i + 1 >= args.Length)
            throw new ArgumentException($"{name} needs a value. {Usage}");
        return args[i + 1];
    }
}
