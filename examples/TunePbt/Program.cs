// Population-based training on a schedule-dependent objective, after Ray Tune's PBT benchmark function:
// "accuracy" only grows while the learning rate stays within a factor of 3 of an optimum that rises from
// 0.001 to 0.01 and falls back as accuracy goes from 0 to 100 to 200 (a triangle wave). A fixed learning
// rate cannot follow it; PBT, copying good trials' checkpoints and perturbing their lr, can.
// Trials run as actors on an embedded RaySharp cluster. Run:
//   dotnet run -c Release --project examples/TunePbt            (add --steps N for a longer budget)
using System.Diagnostics;
using RaySharp;
using RaySharp.Tune;

var reports = args.SkipWhile(a => a != "--steps").Skip(1).Select(int.Parse).FirstOrDefault(TriangleWave.DefaultReports);
var clock = Stopwatch.StartNew();
await using var ray = await Ray.InitAsync();
var root = Path.Combine(Path.GetTempPath(), "raysharp-tune-pbt", DateTime.UtcNow.ToString("yyyyMMdd_HHmmss"));

// 1. Fixed schedules: a grid of constant learning rates, each run for the whole budget.
var fixedLrs = new object[] { 0.001, 0.002, 0.003, 0.004, 0.006, 0.01 };
var fixedGrid = await new Tuner(TriangleWave.Train, new SearchSpace { ["lr"] = Space.Grid(fixedLrs), ["seed"] = 1 }, new TuneOptions
{
    Metric = "accuracy",
    Mode = TuneMode.Max,
    Stopper = new MaxIterationStopper(reports),
    ExperimentDirectory = Path.Combine(root, "fixed"),
    Ray = ray,
}).FitAsync();
var bestFixed = fixedGrid.GetBestTrial();

// 2. PBT: 8 trials from random learning rates; every 4 reports the bottom quarter copies a top-quarter
//    trial's checkpoint and continues with its lr × 0.8 or × 1.2 (or a fresh sample).
var pbt = new PbtScheduler(new PbtOptions
{
    Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0.0001, 0.02) },
    PerturbationInterval = 4,
    QuantileFraction = 0.25,
    Seed = 7,
});
var population = await new Tuner(TriangleWave.Train, new SearchSpace { ["lr"] = Space.Uniform(0.0001, 0.02), ["seed"] = Space.Int(0, 1_000_000) }, new TuneOptions
{
    Metric = "accuracy",
    Mode = TuneMode.Max,
    NumSamples = 8,
    Scheduler = pbt,
    Searcher = new RandomSearcher(seed: 3),
    Stopper = new MaxIterationStopper(reports),
    ExperimentDirectory = Path.Combine(root, "pbt"),
    Ray = ray,
}).FitAsync();
var bestPbt = population.GetBestTrial();

Console.WriteLine(population.ToTable(8));
Console.WriteLine($"budget: {reports} reports × {TriangleWave.StepsPerReport} steps per trial; accuracy {TriangleWave.End} means the triangle was followed to its end");
Console.WriteLine($"PBT (8 trials, {pbt.Exploits.Count} exploits): best accuracy {Accuracy(bestPbt):F1} in {bestPbt.Iteration} reports{(Converged(bestPbt) ? " — converged" : "")}");
Console.WriteLine($"best fixed lr {bestFixed.Config.Get<double>("lr")}: accuracy {Accuracy(bestFixed):F1} in {bestFixed.Iteration} reports{(Converged(bestFixed) ? " — converged" : " — did not converge")}");
Console.WriteLine($"all fixed lrs: {string.Join(", ", fixedGrid.Trials.Select(t => $"{t.Config.Get<double>("lr")}→{Accuracy(t):F0}"))}");
Console.WriteLine($"results in {root}; {clock.Elapsed.TotalSeconds:F1} s");

static double Accuracy(Trial trial) => trial.LastResult!.Metrics["accuracy"];

static bool Converged(Trial trial) => Accuracy(trial) >= TriangleWave.End;

/// <summary>The objective: a trainable whose progress depends on following the triangle-wave lr schedule.</summary>
internal static class TriangleWave
{
    public const int DefaultReports = 300;
    public const int StepsPerReport = 5;
    public const double Midpoint = 100;
    public const double End = 2 * Midpoint;
    private const double Tolerance = 3;
    private const double Noise = 2;

    /// <summary>The lr that makes the most progress at <paramref name="accuracy"/>: 0.001 → 0.01 → 0.001.</summary>
    public static double OptimalLr(double accuracy) =>
        Math.Clamp(accuracy < Midpoint ? 0.01 * accuracy / Midpoint : 0.01 - 0.01 * (accuracy - Midpoint) / Midpoint, 0.001, 0.01);

    /// <summary>
    /// Trains until the experiment stops it (its iteration budget), checkpointing every report. Past
    /// <see cref="End"/> the optimum stays at 0.001, so a converged trial stays near the end.
    /// </summary>
    public static async Task Train(TrialContext trial, CancellationToken ct)
    {
        var lr = trial.Config.Get<double>("lr");
        var state = trial.Checkpoint?.ToObject<State>() ?? new State(0, 0, trial.Config.Get<int>("seed"));
        while (!ct.IsCancellationRequested)
        {
            var accuracy = state.Accuracy;
            for (var s = 0; s < StepsPerReport; s++)
            {
                // Same seed and step → same noise, so a restored trial continues deterministically.
                var random = new Random(unchecked((state.Seed * 1_000_003) + state.Steps + s));
                var optimal = OptimalLr(accuracy);
                var error = Math.Max(lr, optimal) / Math.Min(lr, optimal);
                if (error < Tolerance)
                    accuracy += random.NextDouble() / error;
                else if (lr > optimal)
                    accuracy -= (error - Tolerance) * random.NextDouble();
                accuracy = Math.Max(0, accuracy + Noise * Gaussian(random));
            }
            state = state with { Accuracy = accuracy, Steps = state.Steps + StepsPerReport };
            await trial.ReportAsync(new Dictionary<string, double>
            {
                ["accuracy"] = accuracy,
                ["lr"] = lr,
                ["optimal_lr"] = OptimalLr(accuracy),
            }, Checkpoint.FromObject(state));
        }
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    internal sealed record State(double Accuracy, int Steps, int Seed);
}
