using RaySharp.Tune;

namespace RaySharp.Bench.Tune;

/// <summary>
/// Part (a): best value found after a number of trials, per searcher and function, over many seeds.
/// Trials are evaluated one at a time (suggest → evaluate → complete), so this measures the search
/// algorithms, not the executor.
/// </summary>
internal static class SearcherQuality
{
    public static readonly int[] Checkpoints = [20, 50, 100];

    public sealed record Problem(string Name, Func<SearchSpace> Space, Func<TrialConfig, double> Objective, double Minimum);

    public static readonly Problem[] Problems =
    [
        new("branin", TestFunctions.BraninSpace, TestFunctions.Branin, TestFunctions.BraninMinimum),
        new("hartmann6", TestFunctions.Hartmann6Space, TestFunctions.Hartmann6, TestFunctions.Hartmann6Minimum),
    ];

    public static readonly (string Name, Func<int, ISearcher> Create)[] Searchers =
    [
        ("random", seed => new RandomSearcher(seed)),
        ("tpe", seed => new TpeSearcher(new TpeOptions { Seed = seed })),
        ("gp", seed => new GpSearcher(new GpOptions { Seed = seed })),
    ];

    /// <summary>Best value after each of <see cref="Checkpoints"/> trials, for one searcher, problem and seed.</summary>
    public static double[] Run(Func<int, ISearcher> create, Problem problem, int seed, int trials)
    {
        var searcher = create(seed);
        searcher.Initialize(problem.Space(), "f", TuneMode.Min);
        var best = double.PositiveInfinity;
        var bests = new List<double>();
        for (var t = 1; t <= trials; t++)
        {
            var id = "t" + t;
            var suggestion = searcher.Suggest(id);
            var value = problem.Objective(suggestion.Config!);
            best = Math.Min(best, value);
            searcher.OnTrialComplete(id, new TrialResult(id, 1, new Dictionary<string, double> { ["f"] = value }), failed: false);
            if (Checkpoints.Contains(t))
                bests.Add(best);
        }
        return [.. bests];
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
