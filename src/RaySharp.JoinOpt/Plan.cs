using System.Globalization;
using System.Numerics;
using System.Text;

namespace RaySharp.JoinOpt;

/// <summary>The physical operator of a plan node.</summary>
public enum JoinMethod
{
    /// <summary>A leaf: a scan of one relation with its selections applied.</summary>
    Scan,

    /// <summary>A logical join (C_out charges only the output, whatever the operator).</summary>
    Join,

    /// <summary>Hash join: the right input is the build side, the left input probes it.</summary>
    HashJoin,

    /// <summary>Hash join whose build side does not fit in memory: inputs are partitioned to disk first.</summary>
    GraceHashJoin,

    /// <summary>Index nested-loop join: each left row looks up the right relation's primary-key index.</summary>
    IndexNestedLoop,

    /// <summary>Nested-loop join: every left row is compared with every right row.</summary>
    NestedLoop,
}

/// <summary>
/// A plan tree: a leaf scans one relation; an inner node joins its left (probe/outer) and right
/// (build/inner) inputs with a physical operator. <see cref="Cost"/> is the cumulative cost of the
/// subtree under the cost model that built it.
/// </summary>
public sealed class Plan
{
    private Plan(ulong relations, int relation, Plan? left, Plan? right, JoinMethod method, double rows, double cost)
    {
        Relations = relations;
        Relation = relation;
        Left = left;
        Right = right;
        Method = method;
        Rows = rows;
        Cost = cost;
    }

    /// <summary>The set of relations (bit mask over <see cref="QueryGraph.Relations"/>) this subtree joins.</summary>
    public ulong Relations { get; }

    /// <summary>For a leaf, the index of its relation; -1 for a join.</summary>
    public int Relation { get; }

    /// <summary>Left (probe / outer) input; null for a leaf.</summary>
    public Plan? Left { get; }

    /// <summary>Right (build / inner) input; null for a leaf.</summary>
    public Plan? Right { get; }

    /// <summary>The physical operator.</summary>
    public JoinMethod Method { get; }

    /// <summary>Estimated output rows.</summary>
    public double Rows { get; }

    /// <summary>Cumulative cost of this subtree.</summary>
    public double Cost { get; }

    /// <summary>True for a scan of one relation.</summary>
    public bool IsLeaf => Left is null;

    /// <summary>Number of joins in the subtree.</summary>
    public int JoinCount => BitOperations.PopCount(Relations) - 1;

    internal static Plan Leaf(QueryGraph graph, int relation) =>
        new(1UL << relation, relation, null, null, JoinMethod.Scan, graph.Relations[relation].Rows, 0);

    internal static Plan Join(Plan left, Plan right, JoinMethod method, double rows, double cost) =>
        new(left.Relations | right.Relations, -1, left, right, method, rows, cost);

    /// <summary>The joins of the subtree in post-order (inputs before the join that consumes them).</summary>
    public IEnumerable<Plan> Joins()
    {
        if (IsLeaf)
            yield break;
        foreach (var join in Left!.Joins())
            yield return join;
        foreach (var join in Right!.Joins())
            yield return join;
        yield return this;
    }

    /// <summary>True when every join has a leaf as its right input.</summary>
    public bool IsLeftDeep => IsLeaf || (Right!.IsLeaf && Left!.IsLeftDeep);

    /// <summary>True when every join has a leaf as its left input.</summary>
    public bool IsRightDeep => IsLeaf || (Left!.IsLeaf && Right!.IsRightDeep);

    /// <summary>A compact one-line form, e.g. <c>((t ⋈ mc) ⋈ cn)</c>.</summary>
    public string ToString(QueryGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return IsLeaf ? graph.Relations[Relation].Alias : $"({Left!.ToString(graph)} ⋈ {Right!.ToString(graph)})";
    }

    /// <summary>An indented tree with operator, estimated rows and cumulative cost per node.</summary>
    public string ToTree(QueryGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        Write(graph, text, "", true, true);
        return text.ToString();
    }

    private void Write(QueryGraph graph, StringBuilder text, string indent, bool last, bool root)
    {
        text.Append(indent);
        if (!root)
            text.Append(last ? "└─ " : "├─ ");
        if (IsLeaf)
        {
            var relation = graph.Relations[Relation];
            text.Append(CultureInfo.InvariantCulture, $"Scan {relation.Table} AS {relation.Alias}  rows={relation.Rows:G4}");
            if (relation.Selections.Length > 0)
                text.Append("  where ").Append(relation.Selections);
            text.AppendLine();
            return;
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"{Method}  rows={Rows:G4}  cost={Cost:G4}");
        var childIndent = root ? "" : indent + (last ? "   " : "│  ");
        Left!.Write(graph, text, childIndent, false, false);
        Right!.Write(graph, text, childIndent, true, false);
    }
}
