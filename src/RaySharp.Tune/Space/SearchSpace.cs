using System.Collections;

namespace RaySharp.Tune;

/// <summary>
/// A nested dictionary of hyperparameters: each entry is a <see cref="Domain"/> (searched), a nested
/// <see cref="SearchSpace"/>, or a constant passed through unchanged. Nested names are addressed by
/// paths such as <c>"model/dropout"</c>.
/// </summary>
public sealed class SearchSpace : IEnumerable<KeyValuePair<string, object?>>
{
    /// <summary>The separator of nested names in a parameter path.</summary>
    public const char PathSeparator = '/';

    private readonly List<KeyValuePair<string, object?>> _entries = [];

    /// <summary>The entry named <paramref name="name"/>; setting adds or replaces it.</summary>
    public object? this[string name]
    {
        get
        {
            foreach (var entry in _entries)
            {
                if (entry.Key == name)
                    return entry.Value;
            }
            throw new KeyNotFoundException($"The search space has no entry '{name}'.");
        }
        set
        {
            CheckName(name);
            var i = _entries.FindIndex(e => e.Key == name);
            if (i >= 0)
                _entries[i] = new(name, value);
            else
                _entries.Add(new(name, value));
        }
    }

    /// <summary>Adds an entry (collection-initializer form).</summary>
    public void Add(string name, object? value)
    {
        CheckName(name);
        if (_entries.Exists(e => e.Key == name))
            throw new ArgumentException($"The search space already has an entry '{name}'.", nameof(name));
        _entries.Add(new(name, value));
    }

    /// <summary>Number of top-level entries.</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Every leaf as (path, value), depth first in declaration order.</summary>
    internal IReadOnlyList<KeyValuePair<string, object?>> Flatten()
    {
        var leaves = new List<KeyValuePair<string, object?>>();
        Flatten("", leaves);
        return leaves;
    }

    private void Flatten(string prefix, List<KeyValuePair<string, object?>> leaves)
    {
        foreach (var (name, value) in _entries)
        {
            var path = prefix + name;
            if (value is SearchSpace nested)
                nested.Flatten(path + PathSeparator, leaves);
            else
                leaves.Add(new(path, value));
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> if nothing in the space can vary, so a search would only
    /// repeat one configuration.
    /// </summary>
    internal void ValidateSearchable()
    {
        var leaves = Flatten();
        if (leaves.Count == 0)
            throw new ArgumentException("The search space is empty: add at least one parameter, e.g. [\"lr\"] = Space.LogUniform(1e-4, 1e-1).");
        if (!leaves.Any(l => l.Value is Domain and not ComputedDomain))
            throw new ArgumentException(
                "The search space has no parameter to search (only constants or computed values): add a Space.Uniform, Space.Choice, Space.Grid, ….");
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A parameter needs a non-empty name.", nameof(name));
        if (name.Contains(PathSeparator, StringComparison.Ordinal))
            throw new ArgumentException(
                $"Parameter name '{name}' contains '{PathSeparator}', which separates nested names; nest a SearchSpace instead.", nameof(name));
    }
}
