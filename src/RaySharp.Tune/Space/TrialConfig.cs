using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// The hyperparameters one trial runs with: every path of the <see cref="SearchSpace"/> resolved to a
/// value. Immutable; read with <see cref="Get{T}(string)"/> (<c>config.Get&lt;double&gt;("lr")</c>,
/// <c>config.Get&lt;int&gt;("model/layers")</c>).
/// </summary>
public sealed class TrialConfig
{
    private readonly List<string> _paths;
    private readonly Dictionary<string, object?> _values;

    internal TrialConfig(IEnumerable<KeyValuePair<string, object?>> values)
    {
        _paths = [];
        _values = new(StringComparer.Ordinal);
        foreach (var (path, value) in values)
        {
            if (_values.TryAdd(path, value))
                _paths.Add(path);
            else
                _values[path] = value;
        }
    }

    /// <summary>Every parameter path, in search-space order.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>The value at <paramref name="path"/> as stored (double, int, string, or the chosen object).</summary>
    public object? this[string path] => _values.TryGetValue(path, out var value)
        ? value
        : throw new KeyNotFoundException(
            $"The trial config has no parameter '{path}'; it has {string.Join(", ", _paths.Select(p => "'" + p + "'"))}.");

    /// <summary>True if the config has a parameter at <paramref name="path"/>.</summary>
    public bool Contains(string path) => _values.ContainsKey(path);

    /// <summary>
    /// The value at <paramref name="path"/> as a <typeparamref name="T"/>. Numbers convert between the numeric
    /// types (<c>int</c>, <c>long</c>, <c>float</c>, <c>double</c>, <c>decimal</c> and the other integer types):
    /// to <c>float</c>, <c>double</c> or <c>decimal</c> by rounding to the nearest value the type holds
    /// (<c>Get&lt;float&gt;("lr")</c> on a sampled double); to an integer type only when the value is a whole
    /// number in the type's range (<c>3.0</c> reads as <c>int</c> 3, <c>2.5</c> is an error, never truncated).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such parameter.</exception>
    /// <exception cref="InvalidCastException">
    /// The value is not a <typeparamref name="T"/> and not a number convertible to it: a fractional number read
    /// as an integer type, a number outside the type's range, or a value of another kind.
    /// </exception>
    public T Get<T>(string path)
    {
        var value = this[path];
        if (value is T typed)
            return typed;
        if (value is not null && NumericConversions.TryGetValue(typeof(T), out var convert) && IsNumeric(value))
        {
            var (converted, problem) = convert(value);
            if (problem is null)
                return (T)converted!;
            throw new InvalidCastException($"Parameter '{path}' is the {value.GetType().Name} {Format(value)}, {problem}");
        }
        throw new InvalidCastException(
            $"Parameter '{path}' is {(value is null ? "null" : $"the {value.GetType().Name} {Format(value)}")}, not a {typeof(T).Name}.");
    }

    /// <summary>The parameters under <paramref name="prefix"/> (a nested dictionary), with the prefix removed.</summary>
    public TrialConfig Section(string prefix)
    {
        var start = prefix.TrimEnd(SearchSpace.PathSeparator) + SearchSpace.PathSeparator;
        var inner = _paths.Where(p => p.StartsWith(start, StringComparison.Ordinal))
            .Select(p => new KeyValuePair<string, object?>(p[start.Length..], _values[p]))
            .ToList();
        if (inner.Count == 0)
            throw new KeyNotFoundException($"The trial config has no section '{prefix}'.");
        return new TrialConfig(inner);
    }

    /// <summary>A copy with <paramref name="path"/> set to <paramref name="value"/>.</summary>
    public TrialConfig With(string path, object? value)
    {
        var copy = new TrialConfig(_paths.Select(p => new KeyValuePair<string, object?>(p, _values[p])));
        copy._values[path] = value;
        if (!_values.ContainsKey(path))
            copy._paths.Add(path);
        return copy;
    }

    /// <summary>The config as a nested JSON object.</summary>
    public JsonObject ToJson()
    {
        var root = new JsonObject();
        foreach (var path in _paths)
        {
            var parts = path.Split(SearchSpace.PathSeparator);
            var node = root;
            for (var i = 0; i < parts.Length - 1; i++)
            {
                if (node[parts[i]] is not JsonObject child)
                {
                    child = new JsonObject();
                    node[parts[i]] = child;
                }
                node = child;
            }
            node[parts[^1]] = JsonSerializer.SerializeToNode(_values[path]);
        }
        return root;
    }

    /// <summary>Compact <c>name=value</c> list, for tables and trial directory names.</summary>
    public override string ToString() =>
        string.Join(",", _paths.Select(p => p + "=" + Format(_values[p])));

    internal static string Format(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("G5", CultureInfo.InvariantCulture),
        float f => f.ToString("G5", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static bool IsNumeric(object value) => Type.GetTypeCode(value.GetType()) is TypeCode.Byte or TypeCode.SByte
        or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64
        or TypeCode.Single or TypeCode.Double or TypeCode.Decimal;

    /// <summary>Target type → conversion of a numeric value to it: (value, null), or (null, what is wrong).</summary>
    private static readonly Dictionary<Type, Func<object, (object? Value, string? Problem)>> NumericConversions = new()
    {
        [typeof(byte)] = v => ToNumber<byte>(v, integral: true),
        [typeof(sbyte)] = v => ToNumber<sbyte>(v, integral: true),
        [typeof(short)] = v => ToNumber<short>(v, integral: true),
        [typeof(ushort)] = v => ToNumber<ushort>(v, integral: true),
        [typeof(int)] = v => ToNumber<int>(v, integral: true),
        [typeof(uint)] = v => ToNumber<uint>(v, integral: true),
        [typeof(long)] = v => ToNumber<long>(v, integral: true),
        [typeof(ulong)] = v => ToNumber<ulong>(v, integral: true),
        [typeof(float)] = v => ToNumber<float>(v, integral: false),
        [typeof(double)] = v => ToNumber<double>(v, integral: false),
        [typeof(decimal)] = v => ToNumber<decimal>(v, integral: false),
    };

    private static (object? Value, string? Problem) ToNumber<TTarget>(object value, bool integral)
        where TTarget : INumber<TTarget>
    {
        var name = typeof(TTarget).Name;
        var (isFinite, isWhole) = value switch
        {
            double d => (double.IsFinite(d), double.IsInteger(d)),
            float f => (float.IsFinite(f), float.IsInteger(f)),
            decimal m => (true, decimal.IsInteger(m)),
            _ => (true, true),
        };
        if (integral && !isWhole)
        {
            return (null, isFinite
                ? $"which has a fractional part; Get<{name}> never truncates: read it with Get<Double> and round it yourself (Math.Round) if a whole number is meant."
                : $"which no {name} holds.");
        }
        try
        {
            var converted = value switch
            {
                double d => TTarget.CreateChecked(d),
                float f => TTarget.CreateChecked(f),
                decimal m => TTarget.CreateChecked(m),
                long l => TTarget.CreateChecked(l),
                ulong u => TTarget.CreateChecked(u),
                _ => TTarget.CreateChecked(Convert.ToInt64(value, CultureInfo.InvariantCulture)), // int, uint, short, ushort, byte, sbyte
            };
            if (isFinite && !TTarget.IsFinite(converted))
                return (null, $"outside the range of {name}.");
            return (converted, null);
        }
        catch (OverflowException)
        {
            return (null, isFinite ? $"outside the range of {name}." : $"which no {name} holds.");
        }
    }
}
