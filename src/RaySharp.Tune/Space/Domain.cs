using System.Globalization;

namespace RaySharp.Tune;

/// <summary>
/// One hyperparameter's set of possible values: a range to sample, a list to choose from, a grid to
/// expand, or a value computed from other parameters. Create domains with <see cref="Space"/>.
/// </summary>
public abstract class Domain
{
    private protected Domain()
    {
    }

    /// <summary>Draws one value.</summary>
    internal abstract object? Sample(SeededRandom random);

    /// <summary>A short description for tables and error messages, e.g. <c>loguniform(0.0001, 0.1)</c>.</summary>
    public abstract override string ToString();
}

/// <summary>
/// A numeric range: uniform or log-uniform, continuous, quantised or integer. Model-based searchers see
/// it through a unit interval <c>[0, 1]</c> that is linear in the value (or in its logarithm for log
/// ranges), so densities and kernels work on a well-scaled axis.
/// </summary>
internal sealed class NumericDomain : Domain
{
    private readonly double _a, _b; // the sampled interval before rounding, in value space

    public NumericDomain(double low, double high, bool log, double? quantum, bool integer)
    {
        var what = integer ? "An integer range" : "A range";
        if (!double.IsFinite(low) || !double.IsFinite(high))
            throw new ArgumentException($"{what} needs finite bounds, got [{low}, {high}].");
        if (integer ? low > high : low >= high)
            throw new ArgumentException(
                $"{what} needs its lower bound below its upper bound, got [{Num(low)}, {Num(high)}]; swap them.");
        if (log && low <= 0)
            throw new ArgumentException(
                $"A log range needs positive bounds, got [{Num(low)}, {Num(high)}]; use a linear range for values ≤ 0.");
        if (quantum is { } q)
        {
            if (!(q > 0) || !double.IsFinite(q))
                throw new ArgumentException($"A quantum must be positive, got {Num(q)}.");
            if (q > high - low && !(integer && low == high))
                throw new ArgumentException(
                    $"A quantum of {Num(q)} is wider than the range [{Num(low)}, {Num(high)}]; use a smaller quantum.");
            if (integer && q != Math.Floor(q))
                throw new ArgumentException($"An integer range needs a whole-number step, got {Num(q)}.");
        }

        Low = low;
        Log = log;
        Quantum = quantum;
        IsInteger = integer;
        // Quantised values are Low + k·q for k = 0..K; the top one may sit below High.
        High = quantum is { } step ? low + Math.Floor((high - low) / step + 1e-9) * step : high;
        if (quantum is { } s && !log)
        {
            // Each quantised value owns an equal slice of the sampled interval.
            _a = Low - s / 2;
            _b = High + s / 2;
        }
        else
        {
            _a = Low;
            _b = High;
        }
    }

    public double Low { get; }

    public double High { get; }

    public bool Log { get; }

    public double? Quantum { get; }

    public bool IsInteger { get; }

    internal override object Sample(SeededRandom random) => FromUnit(random.NextDouble());

    /// <summary>The value at position <paramref name="unit"/> ∈ [0, 1] of the (log-)range, rounded as the domain requires.</summary>
    public object FromUnit(double unit)
    {
        unit = Math.Clamp(unit, 0, 1);
        var x = Log
            ? Math.Exp(Math.Log(_a) + unit * (Math.Log(_b) - Math.Log(_a)))
            : _a + unit * (_b - _a);
        return Box(Round(x));
    }

    /// <summary>The unit position of a value of this domain.</summary>
    public double ToUnit(object? value) => ToUnitRaw(AsDouble(value));

    /// <summary>
    /// For quantised and integer domains, the unit interval of values that round to <paramref name="value"/>
    /// (so a density can be integrated into a probability); null for continuous domains.
    /// </summary>
    public (double Low, double High)? UnitBucket(object? value)
    {
        if (Quantum is not { } q)
            return null;
        var v = AsDouble(value);
        return (ToUnitRaw(Math.Max(_a, v - q / 2)), ToUnitRaw(Math.Min(_b, v + q / 2)));
    }

    public bool IsQuantised => Quantum is not null;

    /// <summary>Multiplies a value (PBT's perturbation) and brings it back inside the domain.</summary>
    public object Scale(object? value, double factor) => Box(Round(Math.Clamp(AsDouble(value) * factor, Low, High)));

    private double ToUnitRaw(double x)
    {
        var u = Log
            ? (Math.Log(x) - Math.Log(_a)) / (Math.Log(_b) - Math.Log(_a))
            : (x - _a) / (_b - _a);
        return double.IsFinite(u) ? Math.Clamp(u, 0, 1) : 0.5;
    }

    private double Round(double x)
    {
        if (Quantum is not { } q)
            return Math.Clamp(x, Low, High);
        var k = Math.Round((x - Low) / q, MidpointRounding.AwayFromZero);
        return Math.Clamp(Low + k * q, Low, High);
    }

    private object Box(double x) => IsInteger ? (object)(int)Math.Round(x) : x;

    private static double AsDouble(object? value) => value switch
    {
        double d => d,
        int i => i,
        long l => l,
        float f => f,
        IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"'{value}' is not a number."),
    };

    private static string Num(double x) => x.ToString("G6", CultureInfo.InvariantCulture);

    public override string ToString()
    {
        var name = (IsInteger, Log, Quantum is null) switch
        {
            (true, true, _) => Quantum == 1 ? "lograndint" : "qlograndint",
            (true, false, _) => Quantum == 1 ? "randint" : "qrandint",
            (false, true, true) => "loguniform",
            (false, true, false) => "qloguniform",
            (false, false, true) => "uniform",
            (false, false, false) => "quniform",
        };
        var q = Quantum is { } step && !(IsInteger && step == 1) ? ", " + Num(step) : "";
        return $"{name}({Num(Low)}, {Num(High)}{q})";
    }
}

/// <summary>A choice among listed values, each equally likely when sampled.</summary>
internal sealed class CategoricalDomain : Domain
{
    public CategoricalDomain(IReadOnlyList<object?> values, string what)
    {
        if (values.Count == 0)
            throw new ArgumentException($"{what} needs at least one value.");
        Values = values;
    }

    public IReadOnlyList<object?> Values { get; }

    internal override object? Sample(SeededRandom random) => Values[random.Next(Values.Count)];

    /// <summary>The index of <paramref name="value"/> in <see cref="Values"/>.</summary>
    public int IndexOf(object? value)
    {
        for (var i = 0; i < Values.Count; i++)
        {
            if (Equals(Values[i], value))
                return i;
        }
        throw new ArgumentException($"'{value}' is not one of the choices {this}.");
    }

    public override string ToString() => $"choice({string.Join(", ", Values.Select(v => v?.ToString() ?? "null"))})";
}

/// <summary>Values every one of which is tried (a grid axis), expanded by <see cref="RandomSearcher"/>.</summary>
internal sealed class GridDomain : Domain
{
    public GridDomain(IReadOnlyList<object?> values)
    {
        if (values.Count == 0)
            throw new ArgumentException("A grid axis needs at least one value.");
        Values = values;
    }

    public IReadOnlyList<object?> Values { get; }

    internal override object? Sample(SeededRandom random) => Values[random.Next(Values.Count)];

    public override string ToString() => $"grid({string.Join(", ", Values.Select(v => v?.ToString() ?? "null"))})";
}

/// <summary>A value computed from other parameters once they have been chosen.</summary>
internal sealed class ComputedDomain(Func<TrialConfig, object?> compute) : Domain
{
    public Func<TrialConfig, object?> Compute { get; } = compute ?? throw new ArgumentNullException(nameof(compute));

    internal override object? Sample(SeededRandom random) =>
        throw new InvalidOperationException("A computed value is derived from the other parameters, never sampled.");

    public override string ToString() => "computed";
}
