using System.Numerics;
using RaySharp.JoinOpt.Sql;

namespace RaySharp.JoinOpt;

/// <summary>A relation of a query: an alias of a table, with its estimated rows after its selections.</summary>
/// <param name="Alias">The alias in <c>FROM</c>.</param>
/// <param name="Table">The table it reads.</param>
/// <param name="BaseRows">Rows of the table.</param>
/// <param name="Rows">Estimated rows after the relation's own selection predicates.</param>
/// <param name="Selections">The selection predicates as written (canonical text), joined by AND.</param>
public sealed record Relation(string Alias, string Table, double BaseRows, double Rows, string Selections)
{
    /// <summary>Selectivity of the relation's selections: <see cref="Rows"/> / <see cref="BaseRows"/>.</summary>
    public double Selectivity => BaseRows > 0 ? Rows / BaseRows : 1;
}

/// <summary>A join edge between relations <paramref name="Left"/> and <paramref name="Right"/> (indexes).</summary>
/// <param name="Left">Index of one relation.</param>
/// <param name="Right">Index of the other relation.</param>
/// <param name="Selectivity">Estimated selectivity of the join predicates between the two.</param>
/// <param name="Predicates">The equality predicates, canonical text.</param>
public sealed record JoinEdge(int Left, int Right, double Selectivity, string Predicates);

/// <summary>
/// A select-project-join query as a graph: relations (with estimated filtered cardinalities) and join
/// edges (with selectivities). Cardinality of any set of relations is estimated under independence:
/// the product of the relations' filtered rows and of the selectivities of the edges inside the set
/// (see the project README). Sets of relations are bit masks over relation indexes (at most 64).
/// </summary>
public sealed class QueryGraph
{
    private readonly double[,] _selectivity;

    internal QueryGraph(string name, IReadOnlyList<Relation> relations, IReadOnlyList<JoinEdge> edges, ulong[] primaryKeyJoins)
    {
        Name = name;
        Relations = relations;
        Edges = edges;
        var n = relations.Count;
        _selectivity = new double[n, n];
        Neighbours = new ulong[n];
        PrimaryKeyJoins = primaryKeyJoins;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
                _selectivity[i, j] = 1;
        }
        foreach (var edge in edges)
        {
            _selectivity[edge.Left, edge.Right] *= edge.Selectivity;
            _selectivity[edge.Right, edge.Left] *= edge.Selectivity;
            Neighbours[edge.Left] |= 1UL << edge.Right;
            Neighbours[edge.Right] |= 1UL << edge.Left;
        }
        All = n == 64 ? ulong.MaxValue : (1UL << n) - 1;
    }

    /// <summary>The query's name (file name without extension for files).</summary>
    public string Name { get; }

    /// <summary>The relations, in <c>FROM</c> order; their index is their bit in a relation set.</summary>
    public IReadOnlyList<Relation> Relations { get; }

    /// <summary>The join edges.</summary>
    public IReadOnlyList<JoinEdge> Edges { get; }

    /// <summary>Number of relations.</summary>
    public int Count => Relations.Count;

    /// <summary>The set of all relations.</summary>
    public ulong All { get; }

    /// <summary>For each relation, the set of relations it shares an edge with.</summary>
    internal ulong[] Neighbours { get; }

    /// <summary>
    /// For each relation r, the set of relations joined to r on r's primary key: an index nested-loop
    /// join can look r up from any of them.
    /// </summary>
    internal ulong[] PrimaryKeyJoins { get; }

    /// <summary>Parses SQL and builds its graph against <paramref name="catalog"/>.</summary>
    /// <exception cref="SqlSyntaxException">The SQL is outside the supported subset.</exception>
    /// <exception cref="QueryValidationException">Unknown table, alias or column; disconnected join graph.</exception>
    /// <exception cref="MissingStatisticsException">The statistics lack a table, a join pair or a predicate.</exception>
    public static QueryGraph FromSql(string sql, Catalog catalog, string name = "query") =>
        QueryGraphBuilder.Build(SqlParser.Parse(sql, name), catalog, name);

    /// <summary>Loads a <c>.sql</c> file; the graph is named after the file.</summary>
    /// <exception cref="JoinOptException"><paramref name="path"/> is a directory (or any error of <see cref="FromSql"/>).</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    public static QueryGraph FromFile(string path, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new JoinOptException($"'{path}' is a directory, not a .sql file; load its queries one file at a time (Directory.EnumerateFiles(path, \"*.sql\")).");
        return FromSql(File.ReadAllText(path), catalog, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Selectivity of the edges between relations <paramref name="a"/> and <paramref name="b"/> (1 if none).</summary>
    public double Selectivity(int a, int b) => _selectivity[a, b];

    /// <summary>The relations adjacent to <paramref name="set"/> and not in it.</summary>
    public ulong NeighboursOf(ulong set)
    {
        var result = 0UL;
        for (var rest = set; rest != 0; rest &= rest - 1)
            result |= Neighbours[BitOperations.TrailingZeroCount(rest)];
        return result & ~set;
    }

    /// <summary>True when some edge connects <paramref name="a"/> and <paramref name="b"/>.</summary>
    public bool Connected(ulong a, ulong b) => (NeighboursOf(a) & b) != 0;

    /// <summary>Product of the selectivities of the edges between two disjoint sets.</summary>
    public double SelectivityBetween(ulong a, ulong b)
    {
        var s = 1.0;
        for (var ra = a; ra != 0; ra &= ra - 1)
        {
            var i = BitOperations.TrailingZeroCount(ra);
            for (var rb = b & Neighbours[i]; rb != 0; rb &= rb - 1)
                s *= _selectivity[i, BitOperations.TrailingZeroCount(rb)];
        }
        return s;
    }

    /// <summary>Estimated rows of the join of the relations in <paramref name="set"/>.</summary>
    public double Rows(ulong set)
    {
        var rows = 1.0;
        var seen = 0UL;
        for (var rest = set; rest != 0; rest &= rest - 1)
        {
            var i = BitOperations.TrailingZeroCount(rest);
            rows *= Relations[i].Rows * SelectivityBetween(1UL << i, seen);
            seen |= 1UL << i;
        }
        return rows;
    }

    /// <summary>True when the relations of <paramref name="set"/> form a connected subgraph.</summary>
    public bool IsConnected(ulong set)
    {
        if (set == 0)
            return false;
        var reached = set & (~set + 1);
        while (true)
        {
            var next = (reached | NeighboursOf(reached)) & set;
            if (next == reached)
                return reached == set;
            reached = next;
        }
    }

    /// <summary>Aliases of a set, comma-separated, for messages and plan printing.</summary>
    public string Describe(ulong set)
    {
        var names = new List<string>();
        for (var rest = set; rest != 0; rest &= rest - 1)
            names.Add(Relations[BitOperations.TrailingZeroCount(rest)].Alias);
        return string.Join(",", names);
    }
}
