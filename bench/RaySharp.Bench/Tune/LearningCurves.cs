using System.Diagnostics;
using RaySharp.Tune;

namespace RaySharp.Bench.Tune;

/// <summary>
/// The synthetic learning-curve benchmark of part (b). A config (lr log-uniform in [1e-5, 1], dropout
/// uniform in [0, 0.8]) trains towards an asymptote
/// <c>A = 0.5 + 0.45 · exp(−(log10 lr + 2.5)² / 2) · (1 − (dropout − 0.3)²)</c> at a config-dependent
/// speed <c>τ = 4 + 8 · |log10 lr + 2.5|</c>: <c>acc(t) = A − (A − 0.1) · e^(−t/τ) + ε</c>, ε ~ N(0, 0.005)
/// drawn from a hash of (config, t) so a trial resumed from a checkpoint sees the same curve. Each
/// iteration burns <see cref="WorkPerIteration"/> of CPU, standing in for a training step. Trials stop at
/// <see cref="MaxT"/> = 81 iterations.
/// </summary>
internal static class LearningCurves
{
    public const int MaxT = 81;
    public const double Target = 0.93;
    public static readonly TimeSpan WorkPerIteration = TimeSpan.FromMilliseconds(0.5);

    public static SearchSpace Space() => new()
    {
        ["lr"] = RaySharp.Tune.Space.LogUniform(1e-5, 1),
        ["dropout"] = RaySharp.Tune.Space.Uniform(0, 0.8),
    };

    public static double Asymptote(double lr, double dropout)
    {
        var l = Math.Log10(lr) + 2.5;
        return 0.5 + 0.45 * Math.Exp(-l * l / 2) * (1 - (dropout - 0.3) * (dropout - 0.3));
    }

    public static double Accuracy(double lr, double dropout, int t)
    {
        var a = Asymptote(lr, dropout);
        var tau = 4 + 8 * Math.Abs(Math.Log10(lr) + 2.5);
        return a - (a - 0.1) * Math.Exp(-t / tau) + 0.005 * Noise(lr, dropout, t);
    }

    public static async Task Train(TrialContext trial, CancellationToken cancellationToken)
    {
        var lr = trial.Config.Get<double>("lr");
        var dropout = trial.Config.Get<double>("dropout");
        for (var t = (trial.Checkpoint?.ToObject<int>() ?? 0) + 1; t <= MaxT; t++)
        {
            Burn(WorkPerIteration);
            await trial.ReportAsync("acc", Accuracy(lr, dropout, t), Checkpoint.FromObject(t));
        }
    }

    private static void Burn(TimeSpan duration)
    {
        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
            Thread.SpinWait(20);
    }

    /// <summary>A standard normal value determined by (lr, dropout, t).</summary>
    private static double Noise(double lr, double dropout, int t)
    {
        var h = (ulong)BitConverter.DoubleToInt64Bits(lr) * 0x9E3779B97F4A7C15UL
            ^ (ulong)BitConverter.DoubleToInt64Bits(dropout) * 0xC2B2AE3D27D4EB4FUL
            ^ (ulong)t * 0x165667B19E3779F9UL;
        double Next()
        {
            h += 0x9E3779B97F4A7C15UL;
            var z = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return ((z ^ (z >> 31)) >> 11) * (1.0 / (1UL << 53));
        }
        var u1 = 1 - Next();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * Next());
    }
}
