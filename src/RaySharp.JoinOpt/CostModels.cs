using System.Numerics;

namespace RaySharp.JoinOpt;

/// <summary>One input of a join as a cost model sees it.</summary>
/// <param name="Set">Relations of the input.</param>
/// <param name="Rows">Its estimated rows.</param>
internal readonly record struct JoinInput(ulong Set, double Rows)
{
    public bool IsLeaf => BitOperations.IsPow2(Set);

    public int Leaf => BitOperations.TrailingZeroCount(Set);

    public static JoinInput Of(Plan plan) => new(plan.Relations, plan.Rows);
}

/// <summary>
/// A cost model: the cost of a plan is the sum over its joins of the join's own cost, and the
/// join's own cost is that of the cheapest physical operator available for its (ordered) inputs —
/// left is the probe / outer side, right the build / inner side. Leaves cost nothing; reading an
/// input is charged to the join that reads it. Definitions: the project README.
/// </summary>
public abstract class CostModel
{
    private protected CostModel() { }

    /// <summary>Short name: <c>Cout</c>, <c>CM1</c>, <c>CM2</c>, <c>CM3</c>.</summary>
    public abstract string Name { get; }

    /// <summary>C_out: the sum of the sizes of all intermediate results.</summary>
    public static CostModel Cout { get; } = new CoutModel();

    /// <summary>CM1: main-memory engine with hash joins and index nested-loop joins on primary keys.</summary>
    public static CostModel CM1 { get; } = new MainMemoryModel(reuseBaseHashTables: false);

    /// <summary>CM2: hash and nested-loop joins under a memory limit of <see cref="MemoryLimitModel.DefaultMemoryRows"/> rows.</summary>
    public static CostModel CM2 { get; } = new MemoryLimitModel(MemoryLimitModel.DefaultMemoryRows);

    /// <summary>CM3: CM1 where hash tables built earlier on base relations are reused.</summary>
    public static CostModel CM3 { get; } = new MainMemoryModel(reuseBaseHashTables: true);

    /// <summary>The four models in order: Cout, CM1, CM2, CM3.</summary>
    public static IReadOnlyList<CostModel> All { get; } = [Cout, CM1, CM2, CM3];

    /// <summary>Looks a model up by <see cref="Name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No model has that name.</exception>
    public static CostModel Parse(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown cost model '{name}'; use one of {string.Join(", ", All.Select(m => m.Name))}.", nameof(name));

    /// <summary>The cheapest operator for joining <paramref name="left"/> (probe/outer) with <paramref name="right"/> (build/inner) and its own cost.</summary>
    internal abstract (JoinMethod Method, double Cost) Join(QueryGraph graph, JoinInput left, JoinInput right, double outputRows);

    /// <summary>Joins two plans in the given orientation.</summary>
    internal Plan Join(QueryGraph graph, Plan left, Plan right)
    {
        var rows = left.Rows * right.Rows * graph.SelectivityBetween(left.Relations, right.Relations);
        var (method, cost) = Join(graph, JoinInput.Of(left), JoinInput.Of(right), rows);
        return Plan.Join(left, right, method, rows, left.Cost + right.Cost + cost);
    }

    /// <summary>Joins two plans in the cheaper of the two orientations.</summary>
    internal Plan JoinEitherWay(QueryGraph graph, Plan a, Plan b)
    {
        var ab = Join(graph, a, b);
        var ba = Join(graph, b, a);
        return ba.Cost < ab.Cost ? ba : ab;
    }

    /// <summary>Re-costs a plan's shape (join order and orientation) under this model.</summary>
    public Plan Recost(QueryGraph graph, Plan plan)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(plan);
        return plan.IsLeaf ? Plan.Leaf(graph, plan.Relation) : Join(graph, Recost(graph, plan.Left!), Recost(graph, plan.Right!));
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>C_out: a join costs its output rows.</summary>
internal sealed class CoutModel : CostModel
{
    public override string Name => "Cout";

    internal override (JoinMethod, double) Join(QueryGraph graph, JoinInput left, JoinInput right, double outputRows) =>
        (JoinMethod.Join, outputRows);
}

/// <summary>
/// CM1 and CM3. Hash join (probe L, build R): |L| + 2|R| + |out| (CM3: |L| + |out| when R is a base
/// relation, whose hash table was built earlier and is reused). Index nested loop (outer L, inner base
/// relation R joined on R's primary key): λ|L| + |out| with λ = 2; R is not scanned.
/// </summary>
internal sealed class MainMemoryModel(bool reuseBaseHashTables) : CostModel
{
    public const double Lambda = 2;
    public const double BuildCostPerRow = 2;

    public override string Name => reuseBaseHashTables ? "CM3" : "CM1";

    internal override (JoinMethod, double) Join(QueryGraph graph, JoinInput left, JoinInput right, double outputRows)
    {
        var build = reuseBaseHashTables && right.IsLeaf ? 0 : BuildCostPerRow * right.Rows;
        var hash = left.Rows + build + outputRows;
        if (right.IsLeaf && (graph.PrimaryKeyJoins[right.Leaf] & left.Set) != 0)
        {
            var index = Lambda * left.Rows + outputRows;
            if (index < hash)
                return (JoinMethod.IndexNestedLoop, index);
        }
        return (JoinMethod.HashJoin, hash);
    }
}

/// <summary>
/// CM2: memory of M rows. Hash join (probe L, build R): |L| + 2|R| + |out| when |R| ≤ M; a grace
/// hash join with one partitioning pass, + 2(|L| + |R|), when M &lt; |R| ≤ F·M (F = 64 partitions);
/// unavailable beyond. Nested loop (outer L, inner R, no memory needed): |L|·|R| + |out|, always
/// available. The cheaper available operator is used.
/// </summary>
internal sealed class MemoryLimitModel(double memoryRows) : CostModel
{
    public const double DefaultMemoryRows = 100_000;
    public const double Partitions = 64;

    public override string Name => "CM2";

    internal override (JoinMethod, double) Join(QueryGraph graph, JoinInput left, JoinInput right, double outputRows)
    {
        var nested = left.Rows * right.Rows + outputRows;
        var hash = left.Rows + MainMemoryModel.BuildCostPerRow * right.Rows + outputRows;
        if (right.Rows <= memoryRows)
            return hash <= nested ? (JoinMethod.HashJoin, hash) : (JoinMethod.NestedLoop, nested);
        if (right.Rows <= Partitions * memoryRows)
        {
            var grace = hash + 2 * (left.Rows + right.Rows);
            return grace <= nested ? (JoinMethod.GraceHashJoin, grace) : (JoinMethod.NestedLoop, nested);
        }
        return (JoinMethod.NestedLoop, nested);
    }
}
