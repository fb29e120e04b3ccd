// Tune a RaySharp.Nn classifier on the two-spirals data set shipped in data/spirals.csv: random search
// over learning rate, width, depth and activation with ASHA early stopping; every trial trains an Mlp
// with Adam in a worker process of an embedded RaySharp cluster (TuneOptions.Ray). Run:
//   dotnet run -c Release --project examples/TuneNn            (add --samples N for a bigger search)
using System.Diagnostics;
using System.Globalization;
using RaySharp;
using RaySharp.Nn;
using RaySharp.Tune;

var samples = args.SkipWhile(a => a != "--samples").Skip(1).Select(int.Parse).FirstOrDefault(16);
var clock = Stopwatch.StartNew();
await using var ray = await Ray.InitAsync();
var space = new SearchSpace
{
    ["lr"] = Space.LogUniform(1e-3, 1e-1),
    ["hidden"] = Space.Choice(8, 16, 32, 64),
    ["layers"] = Space.Int(1, 3),
    ["activation"] = Space.Choice("tanh", "relu"),
    ["seed"] = Space.Int(0, 1000),
};
var results = await new Tuner(Spirals.Train, space, new TuneOptions
{
    Metric = "val_loss",
    Mode = TuneMode.Min,
    NumSamples = samples,
    Searcher = new RandomSearcher(seed: 1),
    Scheduler = new AshaScheduler(new() { MaxT = Spirals.Epochs, GracePeriod = 5, ReductionFactor = 3 }),
    ExperimentDirectory = Path.Combine(Path.GetTempPath(), "raysharp-tune-nn", DateTime.UtcNow.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)),
    Ray = ray,
    Progress = Console.Out, // redrawn in place on a terminal; one status line per second when redirected
    ProgressInterval = TimeSpan.FromSeconds(1),
}).FitAsync();

var best = results.GetBestTrial();
Console.WriteLine($"{results.Trials.Count} trials, {results.TotalIterations} epochs in all (ASHA stopped {results.Trials.Count(t => t.Iteration < Spirals.Epochs)} early)");
Console.WriteLine($"best: {best.Config.ToJson()}");
Console.WriteLine($"best validation loss {best.LastResult!.Metrics["val_loss"]:F4}, accuracy {best.LastResult.Metrics["val_acc"]:P1} after {best.Iteration} epochs");
var plots = results.SavePlots();
Console.WriteLine($"plots: {string.Join(", ", plots)}; {clock.Elapsed.TotalSeconds:F1} s");

/// <summary>The data set and the trainable (static: worker processes load it from this assembly).</summary>
internal static class Spirals
{
    public const int Epochs = 40;
    private const int StepsPerEpoch = 10;

    private static readonly Lazy<(Tensor X, int[] Y, Tensor ValX, int[] ValY)> Data = new(Load);

    /// <summary>Trains one config for up to <see cref="Epochs"/> epochs (full-batch Adam steps), reporting validation metrics.</summary>
    public static async Task Train(TrialContext trial, CancellationToken ct)
    {
        var (x, y, valX, valY) = Data.Value;
        var config = trial.Config;
        var hidden = Enumerable.Repeat(config.Get<int>("hidden"), config.Get<int>("layers")).ToArray();
        var activation = config.Get<string>("activation") == "tanh" ? Activation.Tanh : Activation.ReLU;
        var net = new Mlp(2, hidden, 2, activation, rng: new Rng((ulong)config.Get<int>("seed")));
        var optimizer = new Adam(net.Parameters(), learningRate: config.Get<float>("lr"));
        for (var epoch = 1; epoch <= Epochs; epoch++)
        {
            for (var s = 0; s < StepsPerEpoch; s++)
            {
                optimizer.ZeroGrad();
                Loss.CrossEntropy(net.Forward(x), y).Backward();
                optimizer.Step();
            }
            float loss;
            double accuracy;
            using (Tensor.NoGrad())
            {
                var logits = net.Forward(valX);
                loss = Loss.CrossEntropy(logits, valY).Item();
                accuracy = logits.ArgMax(-1).Zip(valY).Count(p => p.First == p.Second) / (double)valY.Length;
            }
            await trial.ReportAsync(new Dictionary<string, double> { ["val_loss"] = loss, ["val_acc"] = accuracy });
        }
    }

    private static (Tensor, int[], Tensor, int[]) Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "spirals.csv");
        var rows = File.ReadLines(path).Skip(1).Select(line => line.Split(',')).ToList();
        (Tensor, int[]) Split(string name)
        {
            var part = rows.Where(r => r[3] == name).ToList();
            var x = part.SelectMany(r => new[] { float.Parse(r[0], CultureInfo.InvariantCulture), float.Parse(r[1], CultureInfo.InvariantCulture) }).ToArray();
            return (Tensor.FromArray(x, part.Count, 2), part.Select(r => int.Parse(r[2], CultureInfo.InvariantCulture)).ToArray());
        }
        var (trainX, trainY) = Split("train");
        var (valX, valY) = Split("val");
        return (trainX, trainY, valX, valY);
    }
}
