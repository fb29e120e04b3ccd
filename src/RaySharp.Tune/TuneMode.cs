namespace RaySharp.Tune;

/// <summary>Whether the experiment's metric is minimised or maximised.</summary>
public enum TuneMode
{
    /// <summary>Smaller is better (a loss, an error rate).</summary>
    Min,

    /// <summary>Larger is better (an accuracy, a reward).</summary>
    Max,
}

/// <summary>Parsing and comparison helpers for <see cref="TuneMode"/>.</summary>
public static class TuneModes
{
    /// <summary>Parses <c>"min"</c> or <c>"max"</c> (any case).</summary>
    /// <exception cref="ArgumentException">Anything else.</exception>
    public static TuneMode Parse(string mode) => mode?.Trim().ToUpperInvariant() switch
    {
        "MIN" => TuneMode.Min,
        "MAX" => TuneMode.Max,
        _ => throw new ArgumentException($"The mode must be \"min\" or \"max\", got \"{mode}\".", nameof(mode)),
    };

    /// <summary>Throws if <paramref name="mode"/> is not a defined value (e.g. a cast integer).</summary>
    internal static void Validate(TuneMode mode)
    {
        if (mode is not (TuneMode.Min or TuneMode.Max))
            throw new ArgumentException($"The mode must be TuneMode.Min or TuneMode.Max, got {(int)mode}.", nameof(mode));
    }

    /// <summary>The metric turned into a loss: smaller is better whatever the mode.</summary>
    internal static double ToLoss(this TuneMode mode, double value) => mode == TuneMode.Min ? value : -value;

    /// <summary>True if <paramref name="a"/> is strictly better than <paramref name="b"/>.</summary>
    internal static bool IsBetter(this TuneMode mode, double a, double b) => mode == TuneMode.Min ? a < b : a > b;

    internal static void ValidateMetric(string metric)
    {
        if (string.IsNullOrWhiteSpace(metric))
            throw new ArgumentException("A metric name is required, e.g. \"loss\" or \"accuracy\".", nameof(metric));
    }
}
