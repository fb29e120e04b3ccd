using System.Numerics;

namespace RaySharp.JoinOpt.Enumerators;

/// <summary>
/// IK-KBZ (Ibaraki–Kameda, Krishnamurthy–Boral–Zaniolo): optimal left-deep order for an acyclic graph
/// under the ASI cost function C_out. Cyclic graphs are reduced to their minimum-selectivity spanning
/// tree; each relation is tried as the root, and the order whose left-deep plan is cheapest under
/// the actual cost model (with all predicates applied) is kept.
/// </summary>
internal sealed class IkKbz : JoinEnumerator
{
    public override string Name => "IK-KBZ";

    /// <summary>A run of relations the algorithm keeps together, with its ASI T and C.</summary>
    private sealed record Compound(List<int> Relations, double T, double C)
    {
        public double Rank => (T - 1) / C;

        public Compound Then(Compound next) => new([.. Relations, .. next.Relations], T * next.T, C + T * next.C);
    }

    private protected override Plan Enumerate(QueryGraph graph, CostModel model)
    {
        var tree = SpanningTree(graph);
        Plan? best = null;
        for (var root = 0; root < graph.Count; root++)
        {
            var order = new List<int> { root };
            foreach (var compound in Children(graph, tree, root, -1))
                order.AddRange(compound.Relations);
            var plan = Plan.Leaf(graph, order[0]);
            for (var i = 1; i < order.Count; i++)
                plan = model.Join(graph, plan, Plan.Leaf(graph, order[i]));
            if (best is null || plan.Cost < best.Cost)
                best = plan;
        }
        return best!;
    }

    /// <summary>Prim's algorithm keeping the most selective edges; returns adjacency lists.</summary>
    private static List<int>[] SpanningTree(QueryGraph graph)
    {
        var n = graph.Count;
        var adjacency = new List<int>[n];
        for (var i = 0; i < n; i++)
            adjacency[i] = [];
        var inTree = 1UL;
        while (inTree != graph.All)
        {
            var (from, to, sel) = (-1, -1, double.MaxValue);
            for (var rest = inTree; rest != 0; rest &= rest - 1)
            {
                var a = BitOperations.TrailingZeroCount(rest);
                for (var out_ = graph.Neighbours[a] & ~inTree; out_ != 0; out_ &= out_ - 1)
                {
                    var b = BitOperations.TrailingZeroCount(out_);
                    if (graph.Selectivity(a, b) < sel)
                        (from, to, sel) = (a, b, graph.Selectivity(a, b));
                }
            }
            adjacency[from].Add(to);
            adjacency[to].Add(from);
            inTree |= 1UL << to;
        }
        return adjacency;
    }

    /// <summary>The normalised chains of <paramref name="node"/>'s children, merged by ascending rank.</summary>
    private static List<Compound> Children(QueryGraph graph, List<int>[] tree, int node, int parent)
    {
        var merged = new List<Compound>();
        foreach (var child in tree[node])
        {
            if (child == parent)
                continue;
            var chain = Chain(graph, tree, child, node);
            merged = Merge(merged, chain);
        }
        return merged;
    }

    /// <summary>The normalised chain of the subtree under <paramref name="node"/>, the node first.</summary>
    private static List<Compound> Chain(QueryGraph graph, List<int>[] tree, int node, int parent)
    {
        var t = graph.Selectivity(node, parent) * graph.Relations[node].Rows;
        var head = new Compound([node], t, t);
        var rest = Children(graph, tree, node, parent);
        var index = 0;
        while (index < rest.Count && head.Rank > rest[index].Rank)
            head = head.Then(rest[index++]);
        var chain = new List<Compound> { head };
        chain.AddRange(rest.Skip(index));
        return chain;
    }

    private static List<Compound> Merge(List<Compound> a, List<Compound> b)
    {
        var merged = new List<Compound>(a.Count + b.Count);
        int i = 0, j = 0;
        while (i < a.Count || j < b.Count)
        {
            if (j >= b.Count || (i < a.Count && a[i].Rank <= b[j].Rank))
                merged.Add(a[i++]);
            else
                merged.Add(b[j++]);
        }
        return merged;
    }
}

/// <summary>
/// Greedy minimum selectivity: start from the base relations; repeatedly join the two connected
/// sub-plans whose predicates between them are the most selective (ties: smaller result), in the
/// orientation the cost model prefers. Builds bushy plans.
/// </summary>
internal sealed class MinSelectivity : JoinEnumerator
{
    public override string Name => "MinSel";

    private protected override Plan Enumerate(QueryGraph graph, CostModel model)
    {
        var parts = Enumerable.Range(0, graph.Count).Select(i => Plan.Leaf(graph, i)).ToList();
        while (parts.Count > 1)
        {
            var (bestI, bestJ, bestSel, bestRows) = (-1, -1, double.MaxValue, double.MaxValue);
            for (var i = 0; i < parts.Count; i++)
            {
                for (var j = i + 1; j < parts.Count; j++)
                {
                    if (!graph.Connected(parts[i].Relations, parts[j].Relations))
                        continue;
                    var sel = graph.SelectivityBetween(parts[i].Relations, parts[j].Relations);
                    var rows = parts[i].Rows * parts[j].Rows * sel;
                    if (sel < bestSel || (sel == bestSel && rows < bestRows))
                        (bestI, bestJ, bestSel, bestRows) = (i, j, sel, rows);
                }
            }
            var joined = model.JoinEitherWay(graph, parts[bestI], parts[bestJ]);
            parts.RemoveAt(bestJ);
            parts[bestI] = joined;
        }
        return parts[0];
    }
}

/// <summary>
/// QuickPick (Waas and Pellenkofer, 2000): a random plan joins the endpoints' sub-plans of the query's
/// edges taken in random order, skipping edges inside one sub-plan; the best of
/// <paramref name="plans"/> such plans is returned. Each join takes the orientation the cost model
/// prefers; a plan is abandoned as soon as its partial cost exceeds the best so far.
/// </summary>
internal sealed class QuickPick(int plans, int seed) : JoinEnumerator
{
    public override string Name => "QuickPick";

    private protected override Plan Enumerate(QueryGraph graph, CostModel model)
    {
        var random = new Random(seed);
        var edges = graph.Edges.Select(e => (e.Left, e.Right)).ToArray();
        var owner = new Plan[graph.Count];
        Plan? best = null;
        for (var attempt = 0; attempt < plans; attempt++)
        {
            for (var i = 0; i < graph.Count; i++)
                owner[i] = Plan.Leaf(graph, i);
            random.Shuffle(edges);
            Plan? last = null;
            var abandoned = false;
            foreach (var (a, b) in edges)
            {
                var pa = owner[a];
                var pb = owner[b];
                if (ReferenceEquals(pa, pb))
                    continue;
                last = model.JoinEitherWay(graph, pa, pb);
                if (best is not null && last.Cost >= best.Cost)
                {
                    abandoned = true;
                    break;
                }
                for (var rest = last.Relations; rest != 0; rest &= rest - 1)
                    owner[BitOperations.TrailingZeroCount(rest)] = last;
            }
            if (!abandoned && last is not null && last.Relations == graph.All)
                best = last;
        }
        return best ?? Plan.Leaf(graph, 0);
    }
}
