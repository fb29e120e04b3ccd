using System.Globalization;
using RaySharp.JoinOpt;
using RaySharp.JoinOpt.Dq;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Cli;

/// <summary>
/// <c>joinopt plan FILE.sql …</c> plans one SQL file and prints each plan tree with estimated rows and
/// cumulative costs; <c>joinopt train …</c> trains DQ on a folder of queries and saves the model, which
/// <c>plan --method DQ --model FILE</c> then uses.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: joinopt plan FILE.sql [--cost Cout|CM1|CM2|CM3|all] [--method Exhaustive|LeftDeep|RightDeep|ZigZag|IK-KBZ|MinSel|QuickPick|DQ|all] [--model DQ.safetensors] [--data DIR]
               joinopt train [--cost Cout|CM1|CM2|CM3] [--queries DIR] [--epochs N] [--out DQ.safetensors] [--data DIR] [--in-process]

        train runs data generation and training as RaySharp tasks on an embedded cluster (or the one at
        RAYSHARP_ADDRESS); --in-process uses this process's thread pool instead.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        try
        {
            var data = Option(args, "--data") ?? Catalog.FindDataDirectory(Directory.GetCurrentDirectory());
            var catalog = Catalog.Load(data);
            return args[0] switch
            {
                "plan" when args.Length >= 2 => Plan(args, catalog, data),
                "train" => Train(args, catalog, data),
                _ => throw new ArgumentException($"Unknown command '{string.Join(' ', args)}'.\n{Usage}"),
            };
        }
        catch (Exception e) when (e is JoinOptException or ArgumentException or IOException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Plan(string[] args, Catalog catalog, string data)
    {
        var cost = Option(args, "--cost") ?? "CM1";
        var method = Option(args, "--method") ?? "Exhaustive";
        var modelPath = Option(args, "--model");
        var models = cost == "all" ? CostModel.All : [CostModel.Parse(cost)];
        var methods = new List<JoinEnumerator>();
        if (method == "all")
            methods.AddRange(JoinEnumerator.Classical);
        else if (!string.Equals(method, "DQ", StringComparison.OrdinalIgnoreCase))
            methods.Add(JoinEnumerator.Classical.FirstOrDefault(m => string.Equals(m.Name, method, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"Unknown method '{method}'.\n{Usage}"));
        if (string.Equals(method, "DQ", StringComparison.OrdinalIgnoreCase) || (method == "all" && modelPath is not null))
            methods.Add(DqOptimizer.Load(modelPath ?? throw new ArgumentException("--method DQ needs --model FILE (make one with 'joinopt train').")));
        var graph = QueryGraph.FromFile(args[1], catalog);
        Console.WriteLine($"{graph.Name}: {graph.Count} relations, {graph.Edges.Count} join edges (data: {data})");
        foreach (var relation in graph.Relations)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {relation.Alias,-8} {relation.Table,-16} base={relation.BaseRows,12:G4} rows={relation.Rows,10:G4}"));
        foreach (var model in models)
        {
            foreach (var enumerator in methods)
            {
                var result = enumerator.Optimize(graph, model);
                Console.WriteLine();
                var note = enumerator is DqOptimizer dq && dq.TrainedFor != model.Name ? $" (network trained for {dq.TrainedFor})" : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Method} under {model.Name}{note}: cost {result.Cost:G6}, planned in {result.PlanningTime.TotalMilliseconds:F3} ms"));
                Console.Write(result.Plan.ToTree(graph));
            }
        }
        return 0;
    }

    private static int Train(string[] args, Catalog catalog, string data)
    {
        var model = CostModel.Parse(Option(args, "--cost") ?? "CM1");
        var folder = Option(args, "--queries") ?? Path.Combine(data, "queries");
        var output = Option(args, "--out") ?? $"dq-{model.Name}.safetensors";
        var options = new DqOptions();
        if (Option(args, "--epochs") is { } epochs)
            options = options with { Epochs = int.Parse(epochs, CultureInfo.InvariantCulture) };
        var files = Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            throw new ArgumentException($"No .sql files in '{folder}'.");
        var queries = files.Select(f => QueryGraph.FromFile(f, catalog)).ToList();
        // In-process training runs one thread per query; OpenBLAS threads would only contend with them.
        RaySharp.Nn.Blas.Threads = 1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        DqOptimizer dq;
        if (args.Contains("--in-process"))
        {
            dq = DqOptimizer.Train(catalog, queries, model, options, ThreadPoolTaskRunner.Default);
        }
        else
        {
            var ray = Ray.InitAsync().GetAwaiter().GetResult();
            try
            {
                dq = DqOptimizer.Train(catalog, queries, model, options, new RayTaskRunner(ray));
            }
            finally
            {
                ray.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        dq.Save(output);
        Console.WriteLine($"trained DQ for {model.Name} on {queries.Count} queries in {clock.Elapsed.TotalSeconds:F1} s ({(args.Contains("--in-process") ? "thread pool" : "RaySharp tasks")}); saved {output}");
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        if (i < 0)
            return null;
        if (i + 1 >= args.Length)
            throw new ArgumentException($"{name} needs a value.\n{Usage}");
        return args[i + 1];
    }
}
