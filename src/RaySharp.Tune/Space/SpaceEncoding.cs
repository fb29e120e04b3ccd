namespace RaySharp.Tune;

/// <summary>
/// A search space flattened for searchers: each searchable parameter becomes one coordinate of a
/// point — the unit position of a numeric value, or the index of a categorical one — and a point plus
/// the grid values decode back to a <see cref="TrialConfig"/> (constants copied, computed values computed).
/// </summary>
internal sealed class SpaceEncoding
{
    private readonly List<Entry> _entries = [];
    private readonly List<Dimension> _dimensions = [];
    private readonly List<(string Path, GridDomain Domain)> _grid = [];

    public SpaceEncoding(SearchSpace space, bool allowGrid, string searcherName)
    {
        ArgumentNullException.ThrowIfNull(space);
        space.ValidateSearchable();
        foreach (var (path, value) in space.Flatten())
        {
            switch (value)
            {
                case NumericDomain numeric:
                    _entries.Add(new Entry(path, EntryKind.Dimension, _dimensions.Count, value));
                    _dimensions.Add(new Dimension(path, numeric, null));
                    break;
                case CategoricalDomain categorical:
                    _entries.Add(new Entry(path, EntryKind.Dimension, _dimensions.Count, value));
                    _dimensions.Add(new Dimension(path, null, categorical));
                    break;
                case GridDomain grid when allowGrid:
                    _entries.Add(new Entry(path, EntryKind.Grid, _grid.Count, value));
                    _grid.Add((path, grid));
                    break;
                case GridDomain:
                    throw new ArgumentException(
                        $"{searcherName} cannot expand the grid axis '{path}'; use Space.Choice for it, or search with RandomSearcher.");
                case ComputedDomain computed:
                    _entries.Add(new Entry(path, EntryKind.Computed, -1, computed));
                    break;
                default:
                    _entries.Add(new Entry(path, EntryKind.Constant, -1, value));
                    break;
            }
        }
    }

    public IReadOnlyList<Dimension> Dimensions => _dimensions;

    /// <summary>Number of grid combinations (1 without grid axes).</summary>
    public long GridSize => _grid.Aggregate(1L, (n, g) => checked(n * g.Domain.Values.Count));

    /// <summary>The grid values of combination <paramref name="index"/> (mixed-radix, first axis slowest).</summary>
    public object?[] GridCombination(long index)
    {
        var values = new object?[_grid.Count];
        for (var i = _grid.Count - 1; i >= 0; i--)
        {
            var count = _grid[i].Domain.Values.Count;
            values[i] = _grid[i].Domain.Values[(int)(index % count)];
            index /= count;
        }
        return values;
    }

    /// <summary>A uniformly random point: unit positions for numeric dimensions, indices for categorical ones.</summary>
    public double[] SamplePoint(SeededRandom random)
    {
        var point = new double[_dimensions.Count];
        for (var d = 0; d < point.Length; d++)
        {
            var dim = _dimensions[d];
            point[d] = dim.Categorical is { } c ? random.Next(c.Values.Count) : random.NextDouble();
        }
        return point;
    }

    /// <summary>The config at <paramref name="point"/>; numeric coordinates are rounded as their domains require.</summary>
    public TrialConfig Decode(double[] point, object?[]? gridValues = null)
    {
        if (point.Length != _dimensions.Count)
            throw new ArgumentException($"A point of this space has {_dimensions.Count} coordinates, not {point.Length}.", nameof(point));
        var values = new List<KeyValuePair<string, object?>>(_entries.Count);
        foreach (var entry in _entries)
        {
            object? value = entry.Kind switch
            {
                EntryKind.Dimension => _dimensions[entry.Index].Categorical is { } c
                    ? c.Values[Math.Clamp((int)point[entry.Index], 0, c.Values.Count - 1)]
                    : _dimensions[entry.Index].Numeric!.FromUnit(point[entry.Index]),
                EntryKind.Grid => gridValues is null
                    ? throw new ArgumentException("This space has grid axes; pass their values.", nameof(gridValues))
                    : gridValues[entry.Index],
                EntryKind.Constant => entry.Value,
                _ => null,
            };
            values.Add(new(entry.Path, value));
        }
        return ResolveComputed(values);
    }

    /// <summary>The point of a config (rounded values map to the unit position of the rounded value).</summary>
    public double[] Encode(TrialConfig config)
    {
        var point = new double[_dimensions.Count];
        for (var d = 0; d < point.Length; d++)
        {
            var dim = _dimensions[d];
            var value = config[dim.Path];
            point[d] = dim.Categorical is { } c ? c.IndexOf(value) : dim.Numeric!.ToUnit(value);
        }
        return point;
    }

    private TrialConfig ResolveComputed(List<KeyValuePair<string, object?>> values)
    {
        for (var i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Kind != EntryKind.Computed)
                continue;
            var known = new TrialConfig(values.Where((_, j) => _entries[j].Kind != EntryKind.Computed || j < i));
            try
            {
                values[i] = new(_entries[i].Path, ((ComputedDomain)_entries[i].Value!).Compute(known));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidCastException)
            {
                throw new ArgumentException(
                    $"Computed parameter '{_entries[i].Path}' failed: {e.Message} (a computed value may read searched values, constants and computed values declared before it).", e);
            }
        }
        return new TrialConfig(values);
    }

    /// <summary>One searchable coordinate: numeric or categorical.</summary>
    internal sealed record Dimension(string Path, NumericDomain? Numeric, CategoricalDomain? Categorical);

    private enum EntryKind
    {
        Dimension,
        Grid,
        Constant,
        Computed,
    }

    private sealed record Entry(string Path, EntryKind Kind, int Index, object? Value);
}
