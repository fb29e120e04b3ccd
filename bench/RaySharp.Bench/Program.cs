namespace RaySharp.Bench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RaySharp.Bench -- &lt;verb&gt; [--quick] [--out DIR]</c>.
/// Each verb prints its metrics, writes <c>bench/results/&lt;verb&gt;.json</c> and a markdown table.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var verbs = typeof(Program).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(IBenchmark).IsAssignableFrom(t))
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Verb, StringComparer.Ordinal)
            .ToDictionary(b => b.Verb, StringComparer.Ordinal);

        if (args.Length == 0 || args[0] is "-h" or "--help" || !verbs.TryGetValue(args[0], out var bench))
        {
            if (args.Length > 0 && args[0] is not ("-h" or "--help"))
                Console.Error.WriteLine($"Unknown benchmark '{args[0]}'.");
            Console.Error.WriteLine("usage: RaySharp.Bench <verb> [--quick] [--out DIR] [verb options]");
            foreach (var verb in verbs.Values)
                Console.Error.WriteLine($"  {verb.Verb,-10} {verb.Description}");
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }

        var rest = args.Skip(1).ToList();
        var quick = rest.Remove("--quick");
        var outDir = DefaultResultsDirectory();
        var outIndex = rest.IndexOf("--out");
        if (outIndex >= 0)
        {
            if (outIndex + 1 >= rest.Count)
            {
                Console.Error.WriteLine("--out needs a directory.");
                return 2;
            }
            outDir = rest[outIndex + 1];
            rest.RemoveRange(outIndex, 2);
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        Console.WriteLine($"# {bench.Verb}{(quick ? " (quick)" : "")} — {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        var report = new BenchReport(bench.Verb);
        await bench.RunAsync(new BenchContext(quick, rest, outDir), report, cancel.Token);
        var table = report.Write(outDir);
        Console.WriteLine();
        Console.WriteLine(table);
        Console.WriteLine($"wrote {Path.Combine(outDir, bench.Verb + ".json")}");
        return 0;
    }

    /// <summary><c>bench/results</c> of the repository this program was built from.</summary>
    private static string DefaultResultsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RaySharp.slnx")))
                return Path.Combine(dir.FullName, "bench", "results");
        }
        return Path.Combine(Directory.GetCurrentDirectory(), "bench", "results");
    }
}
