using System.Numerics;

namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// DQ's featurisation of a join decision. A relation is a slot (table, k) where k is the alias's
/// rank among the query's aliases of that table in FROM order, so the layout is fixed across
/// queries. The vector is [left one-hot | right one-hot | remaining graph | scalars]:
/// left/right mark the relations of the two joined nodes; the remaining graph marks every other
/// relation of the query weighted by its selectivity (max(0.1, 1 + log10(sel)/8), so a selective
/// filter still shows as present); the scalars are log10(1 + rows)/10 of left, right, result and of
/// all other nodes together, the number of other nodes / 16, two flags: right (resp. left) is a
/// base relation the other side can look up through its primary key, and log10(1 + the join's own
/// cost)/10 under the cost model being planned for (the immediate cost of the action).
/// </summary>
internal sealed class Featurizer
{
    public const int MaxAliasesPerTable = 4;
    public const int ScalarCount = 8;

    private readonly Dictionary<string, int> _tableIndex;

    public Featurizer(IEnumerable<string> tables)
    {
        Tables = [.. tables.Order(StringComparer.Ordinal)];
        _tableIndex = Tables.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i, StringComparer.Ordinal);
        Slots = Tables.Count * MaxAliasesPerTable;
    }

    /// <summary>The tables of the vocabulary, ordinal order.</summary>
    public IReadOnlyList<string> Tables { get; }

    public int Slots { get; }

    public int LeftOffset => 0;

    public int RightOffset => Slots;

    public int GraphOffset => 2 * Slots;

    public int ScalarOffset => 3 * Slots;

    public int Size => 3 * Slots + ScalarCount;

    /// <summary>The slot of each relation of <paramref name="graph"/>.</summary>
    /// <exception cref="JoinOptException">A table is outside the vocabulary or has too many aliases.</exception>
    public int[] SlotsOf(QueryGraph graph)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var slots = new int[graph.Count];
        for (var i = 0; i < graph.Count; i++)
        {
            var table = graph.Relations[i].Table;
            if (!_tableIndex.TryGetValue(table, out var t))
                throw new JoinOptException($"Table '{table}' of query '{graph.Name}' is not in the DQ model's vocabulary ({string.Join(", ", Tables)}); retrain the model on a catalog that has it.");
            var k = seen.GetValueOrDefault(table);
            if (k >= MaxAliasesPerTable)
                throw new JoinOptException($"Query '{graph.Name}' has more than {MaxAliasesPerTable} aliases of table '{table}', more than DQ's featurisation encodes.");
            seen[table] = k + 1;
            slots[i] = t * MaxAliasesPerTable + k;
        }
        return slots;
    }

    /// <summary>The remaining-graph weight of relation <paramref name="i"/>.</summary>
    public static float GraphWeight(QueryGraph graph, int i) =>
        (float)Math.Max(0.1, 1 + Math.Log10(Math.Max(graph.Relations[i].Selectivity, 1e-30)) / 8);

    public static float LogRows(double rows) => (float)(Math.Log10(1 + rows) / 10);

    /// <summary>The scalar features of joining <paramref name="left"/> with <paramref name="right"/>.</summary>
    public static void Scalars(QueryGraph graph, Plan left, Plan right, double outputRows, double ownCost, double otherRows, int otherNodes, Span<float> into)
    {
        into[0] = LogRows(left.Rows);
        into[1] = LogRows(right.Rows);
        into[2] = LogRows(outputRows);
        into[3] = LogRows(otherRows);
        into[4] = otherNodes / 16f;
        into[5] = right.IsLeaf && (graph.PrimaryKeyJoins[right.Relation] & left.Relations) != 0 ? 1 : 0;
        into[6] = left.IsLeaf && (graph.PrimaryKeyJoins[left.Relation] & right.Relations) != 0 ? 1 : 0;
        into[7] = LogRows(ownCost);
    }

    /// <summary>
    /// Writes the dense feature vector of joining <paramref name="left"/> with <paramref name="right"/>
    /// in a state whose query is <paramref name="query"/> (a subset of the graph's relations).
    /// </summary>
    public void Write(QueryGraph graph, int[] slots, ulong query, Plan left, Plan right, double outputRows, double ownCost, double otherRows, int otherNodes, Span<float> into)
    {
        into.Clear();
        for (var rest = left.Relations; rest != 0; rest &= rest - 1)
            into[LeftOffset + slots[BitOperations.TrailingZeroCount(rest)]] = 1;
        for (var rest = right.Relations; rest != 0; rest &= rest - 1)
            into[RightOffset + slots[BitOperations.TrailingZeroCount(rest)]] = 1;
        for (var rest = query & ~(left.Relations | right.Relations); rest != 0; rest &= rest - 1)
        {
            var i = BitOperations.TrailingZeroCount(rest);
            into[GraphOffset + slots[i]] = GraphWeight(graph, i);
        }
        Scalars(graph, left, right, outputRows, ownCost, otherRows, otherNodes, into[ScalarOffset..]);
    }
}
