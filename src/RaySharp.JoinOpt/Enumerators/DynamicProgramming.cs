using System.Numerics;

namespace RaySharp.JoinOpt.Enumerators;

/// <summary>Best plan per relation set: a flat array for up to 20 relations, a dictionary above.</summary>
internal sealed class DpTable
{
    private readonly Plan?[]? _array;
    private readonly Dictionary<ulong, Plan>? _map;

    public DpTable(int relations)
    {
        if (relations <= 20)
            _array = new Plan?[1 << relations];
        else
            _map = [];
    }

    /// <summary>Every set that has a plan, in increasing numeric order for the array form.</summary>
    public IEnumerable<Plan> Plans()
    {
        if (_array is not null)
        {
            foreach (var plan in _array)
            {
                if (plan is not null)
                    yield return plan;
            }
        }
        else
        {
            foreach (var plan in _map!.Values)
                yield return plan;
        }
    }

    public Plan? this[ulong set]
    {
        get => _array is not null ? _array[set] : _map!.GetValueOrDefault(set);
        set
        {
            if (_array is not null)
                _array[set] = value;
            else
                _map![set] = value!;
        }
    }
}

/// <summary>
/// DPccp (Moerkotte and Neumann, VLDB 2006): enumerates every connected subgraph / connected
/// complement pair once, so the bushy search space without cross products is covered exactly; each
/// pair is tried in both orientations.
/// </summary>
internal sealed class DpCcp : JoinEnumerator
{
    public override string Name => "Exhaustive";

    private protected override Plan Enumerate(QueryGraph graph, CostModel model) => Solve(graph, model)[graph.All]!;

    /// <summary>The whole DP table: the optimal plan of every connected subset of the graph.</summary>
    internal static DpTable Solve(QueryGraph graph, CostModel model)
    {
        var leaves = new Plan[graph.Count];
        for (var i = 0; i < leaves.Length; i++)
            leaves[i] = Plan.Leaf(graph, i);
        var search = new Search(graph, model, leaves, graph.Neighbours);
        search.Run();
        return search.Table;
    }

    /// <summary>
    /// The cheapest way to join <paramref name="nodes"/> (disjoint sub-plans covering a connected set)
    /// into one plan without cross products: DPccp over the graph whose vertices are the nodes. The
    /// nodes are kept as they are; the result's cost includes theirs.
    /// </summary>
    internal static Plan Complete(QueryGraph graph, CostModel model, IReadOnlyList<Plan> nodes)
    {
        var adjacency = new ulong[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            for (var j = i + 1; j < nodes.Count; j++)
            {
                if (graph.Connected(nodes[i].Relations, nodes[j].Relations))
                {
                    adjacency[i] |= 1UL << j;
                    adjacency[j] |= 1UL << i;
                }
            }
        }
        return new Search(graph, model, [.. nodes], adjacency).Run();
    }

    /// <summary>
    /// One run's state. Vertices are <paramref name="leaves"/> (the graph's relations, or sub-plans
    /// standing for sets of them), <paramref name="adjacency"/> their edges; table keys are sets of
    /// vertices.
    /// </summary>
    private sealed class Search(QueryGraph graph, CostModel model, Plan[] leaves, ulong[] adjacency)
    {
        private readonly DpTable _best = new(leaves.Length);

        public DpTable Table => _best;

        public Plan Run()
        {
            var n = leaves.Length;
            for (var i = 0; i < n; i++)
                _best[1UL << i] = leaves[i];
            for (var i = n - 1; i >= 0; i--)
            {
                var v = 1UL << i;
                var below = (v << 1) - 1; // B_i = {j : j <= i}
                EmitCsg(v);
                EnumerateCsgRec(v, below);
            }
            return _best[n == 64 ? ulong.MaxValue : (1UL << n) - 1] ?? throw new InvalidOperationException($"DPccp found no plan for '{graph.Name}'; its graph must be connected.");
        }

        private void EnumerateCsgRec(ulong s, ulong excluded)
        {
            var neighbours = NeighboursOf(s) & ~excluded;
            if (neighbours == 0)
                return;
            for (var sub = neighbours & (0 - neighbours); sub != 0; sub = (sub - neighbours) & neighbours)
                EmitCsg(s | sub);
            for (var sub = neighbours & (0 - neighbours); sub != 0; sub = (sub - neighbours) & neighbours)
                EnumerateCsgRec(s | sub, excluded | neighbours);
        }

        private void EmitCsg(ulong s1)
        {
            var lowest = s1 & (0 - s1);
            var excluded = s1 | (lowest - 1) | lowest;
            var neighbours = NeighboursOf(s1) & ~excluded;
            for (var rest = neighbours; rest != 0;)
            {
                var top = 63 - BitOperations.LeadingZeroCount(rest);
                var s2 = 1UL << top;
                rest &= ~s2;
                EmitPair(s1, s2);
                EnumerateCmpRec(s1, s2, excluded | (neighbours & ((s2 << 1) - 1)));
            }
        }

        private void EnumerateCmpRec(ulong s1, ulong s2, ulong excluded)
        {
            var neighbours = NeighboursOf(s2) & ~excluded;
            if (neighbours == 0)
                return;
            for (var sub = neighbours & (0 - neighbours); sub != 0; sub = (sub - neighbours) & neighbours)
                EmitPair(s1, s2 | sub);
            for (var sub = neighbours & (0 - neighbours); sub != 0; sub = (sub - neighbours) & neighbours)
                EnumerateCmpRec(s1, s2 | sub, excluded | neighbours);
        }

        private ulong NeighboursOf(ulong set)
        {
            var result = 0UL;
            for (var rest = set; rest != 0; rest &= rest - 1)
                result |= adjacency[BitOperations.TrailingZeroCount(rest)];
            return result & ~set;
        }

        private void EmitPair(ulong s1, ulong s2)
        {
            var p1 = _best[s1]!;
            var p2 = _best[s2]!;
            var rows = p1.Rows * p2.Rows * graph.SelectivityBetween(p1.Relations, p2.Relations);
            var union = s1 | s2;
            var current = _best[union];
            var (m12, c12) = model.Join(graph, JoinInput.Of(p1), JoinInput.Of(p2), rows);
            var (m21, c21) = model.Join(graph, JoinInput.Of(p2), JoinInput.Of(p1), rows);
            var cost12 = p1.Cost + p2.Cost + c12;
            var cost21 = p1.Cost + p2.Cost + c21;
            if (cost21 < cost12)
            {
                if (current is null || cost21 < current.Cost)
                    _best[union] = Plan.Join(p2, p1, m21, rows, cost21);
            }
            else if (current is null || cost12 < current.Cost)
            {
                _best[union] = Plan.Join(p1, p2, m12, rows, cost12);
            }
        }
    }
}

/// <summary>The plan shapes <see cref="LinearDp"/> searches.</summary>
internal enum LinearShape
{
    LeftDeep,
    RightDeep,
    ZigZag,
}

/// <summary>
/// System-R style dynamic programming over connected sets grown one base relation at a time, without
/// cross products: left-deep (the new relation is the right input), right-deep (the left input) or
/// zig-zag (either).
/// </summary>
internal sealed class LinearDp(LinearShape shape) : JoinEnumerator
{
    public override string Name => shape switch
    {
        LinearShape.LeftDeep => "LeftDeep",
        LinearShape.RightDeep => "RightDeep",
        _ => "ZigZag",
    };

    private protected override Plan Enumerate(QueryGraph graph, CostModel model)
    {
        var best = new DpTable(graph.Count);
        var level = new List<ulong>();
        for (var i = 0; i < graph.Count; i++)
        {
            best[1UL << i] = Plan.Leaf(graph, i);
            level.Add(1UL << i);
        }
        for (var size = 1; size < graph.Count; size++)
        {
            var next = new List<ulong>();
            foreach (var set in level)
            {
                var plan = best[set]!;
                for (var rest = graph.NeighboursOf(set); rest != 0; rest &= rest - 1)
                {
                    var r = BitOperations.TrailingZeroCount(rest);
                    var leaf = best[1UL << r]!;
                    var candidate = shape switch
                    {
                        LinearShape.LeftDeep => model.Join(graph, plan, leaf),
                        LinearShape.RightDeep => model.Join(graph, leaf, plan),
                        _ => model.JoinEitherWay(graph, plan, leaf),
                    };
                    var union = set | (1UL << r);
                    var current = best[union];
                    if (current is null)
                        next.Add(union);
                    if (current is null || candidate.Cost < current.Cost)
                        best[union] = candidate;
                }
            }
            level = next;
        }
        return best[graph.All] ?? throw new InvalidOperationException($"No linear plan for '{graph.Name}'; its graph must be connected.");
    }
}
