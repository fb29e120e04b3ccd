using System.Globalization;
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
    /// The value at <paramref name="path"/> as a <typeparamref name="T"/>; numbers convert between
    /// numeric types when no precision is lost (an <c>int</c> reads as <c>double</c>, <c>3.0</c> as <c>int</c>).
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such parameter.</exception>
    /// <exception cref="InvalidCastException">The value is not a <typeparamref name="T"/>.</exception>
    public T Get<T>(string path)
    {
        var value = this[path];
        if (value is T typed)
            return typed;
        if (value is IConvertible && IsNumeric(value) && IsNumeric(typeof(T)))
        {
            var converted = (T)Convert.ChangeType(value, typeof(T), CultureInfo.InvariantCulture);
            if (Convert.ToDouble(converted, CultureInfo.InvariantCulture) == Convert.ToDouble(value, CultureInfo.InvariantCulture))
                return converted;
        }
        throw new InvalidCastException(
            $"Parameter '{path}' is {(value is null ? "null" : $"the {value.GetType().Name} {value}")}, not a {typeof(T).Name}.");
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

    private static bool IsNumeric(object value) => IsNumeric(value.GetType());

    private static bool IsNumeric(Type type) => Type.GetTypeCode(type) is TypeCode.Byte or TypeCode.SByte or TypeCode.Int16
        or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64
        or TypeCode.Single or TypeCode.Double or TypeCode.Decimal;
}
