namespace RaySharp.Tune;

/// <summary>
/// Builds the domains of a <see cref="SearchSpace"/>, under the names Ray Tune uses.
/// <code>
/// var space = new SearchSpace
/// {
///     ["lr"] = Space.LogUniform(1e-4, 1e-1),
///     ["batch"] = Space.Choice(32, 64, 128),
///     ["layers"] = Space.Int(1, 4),
///     ["model"] = new SearchSpace { ["dropout"] = Space.QUniform(0, 0.5, 0.1) },
///     ["warmup"] = Space.Computed(c => c.Get&lt;int&gt;("layers") * 100),
/// };
/// </code>
/// Bounds are inclusive. Bad bounds throw <see cref="ArgumentException"/> here, before any trial starts.
/// </summary>
public static class Space
{
    /// <summary>A real number uniform in [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public static Domain Uniform(double low, double high) => new NumericDomain(low, high, log: false, quantum: null, integer: false);

    /// <summary>A real number uniform in [low, high], rounded to a multiple of <paramref name="quantum"/> above <paramref name="low"/>.</summary>
    public static Domain QUniform(double low, double high, double quantum) => new NumericDomain(low, high, log: false, quantum, integer: false);

    /// <summary>A positive real number whose logarithm is uniform in [log low, log high].</summary>
    public static Domain LogUniform(double low, double high) => new NumericDomain(low, high, log: true, quantum: null, integer: false);

    /// <summary>A log-uniform number rounded to a multiple of <paramref name="quantum"/> above <paramref name="low"/>.</summary>
    public static Domain QLogUniform(double low, double high, double quantum) => new NumericDomain(low, high, log: true, quantum, integer: false);

    /// <summary>An integer uniform in [<paramref name="low"/>, <paramref name="high"/>] (both included).</summary>
    public static Domain Int(int low, int high) => new NumericDomain(low, high, log: false, quantum: 1, integer: true);

    /// <summary>An integer in [low, high] that is <paramref name="low"/> plus a multiple of <paramref name="step"/>.</summary>
    public static Domain QInt(int low, int high, int step) => new NumericDomain(low, high, log: false, quantum: step, integer: true);

    /// <summary>A positive integer whose logarithm is uniform in [log low, log high].</summary>
    public static Domain LogInt(int low, int high) => new NumericDomain(low, high, log: true, quantum: 1, integer: true);

    /// <summary>One of <paramref name="values"/>, each equally likely.</summary>
    public static Domain Choice<T>(params IReadOnlyList<T> values) =>
        new CategoricalDomain(values.Select(v => (object?)v).ToArray(), "A choice");

    /// <summary>Every one of <paramref name="values"/> is tried (crossed with the other grid axes).</summary>
    public static Domain Grid<T>(params IReadOnlyList<T> values) => new GridDomain(values.Select(v => (object?)v).ToArray());

    /// <summary>
    /// A value computed from the other parameters of the same trial after they have been chosen;
    /// it may read earlier computed values too.
    /// </summary>
    public static Domain Computed<T>(Func<TrialConfig, T> compute)
    {
        ArgumentNullException.ThrowIfNull(compute);
        return new ComputedDomain(c => compute(c));
    }
}
