using System.Numerics;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// Labelled join decisions: feature rows and their optimal cost-to-go. Rows are stored sparse (a
/// decision's vector has at most one entry per relation of its query plus the scalars, of ~260), so
/// the data of a query is small enough to travel between processes as a task result.
/// </summary>
internal sealed class TrainingData(int featureSize)
{
    private readonly List<int> _rowStarts = [0];
    private readonly List<ushort> _indices = [];
    private readonly List<float> _values = [];
    private readonly List<double> _costToGo = [];

    public int FeatureSize { get; } = featureSize;

    public int Count => _costToGo.Count;

    public double CostToGo(int i) => _costToGo[i];

    /// <summary>Writes row <paramref name="i"/> densely into <paramref name="into"/> (<see cref="FeatureSize"/> long).</summary>
    public void CopyRow(int i, Span<float> into)
    {
        into.Clear();
        var indices = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_indices);
        var values = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_values);
        for (var k = _rowStarts[i]; k < _rowStarts[i + 1]; k++)
            into[indices[k]] = values[k];
    }

    public void Add(ReadOnlySpan<float> features, double costToGo)
    {
        for (var k = 0; k < features.Length; k++)
        {
            if (features[k] != 0)
            {
                _indices.Add((ushort)k);
                _values.Add(features[k]);
            }
        }
        _rowStarts.Add(_indices.Count);
        _costToGo.Add(costToGo);
    }

    public void AddAll(TrainingData other)
    {
        if (other.FeatureSize != FeatureSize)
            throw new ArgumentException($"Training data of {other.FeatureSize} features cannot join data of {FeatureSize}.", nameof(other));
        var offset = _indices.Count;
        _indices.AddRange(other._indices);
        _values.AddRange(other._values);
        for (var i = 1; i < other._rowStarts.Count; i++)
            _rowStarts.Add(offset + other._rowStarts[i]);
        _costToGo.AddRange(other._costToGo);
    }

    /// <summary>The data as plain arrays, to send to or from another process.</summary>
    public TrainingDataWire ToWire() => new(FeatureSize, [.. _rowStarts], [.. _indices], [.. _values], [.. _costToGo]);

    /// <summary>Rebuilds data sent with <see cref="ToWire"/>.</summary>
    public static TrainingData FromWire(TrainingDataWire wire)
    {
        ArgumentNullException.ThrowIfNull(wire);
        if (wire.RowStarts.Length != wire.CostToGo.Length + 1 || wire.Indices.Length != wire.Values.Length || wire.RowStarts[^1] != wire.Indices.Length)
            throw new ArgumentException("Training data arrays do not line up (row starts, indices, values and labels disagree on their lengths).", nameof(wire));
        var data = new TrainingData(wire.FeatureSize);
        data._rowStarts.Clear();
        data._rowStarts.AddRange(wire.RowStarts);
        data._indices.AddRange(wire.Indices);
        data._values.AddRange(wire.Values);
        data._costToGo.AddRange(wire.CostToGo);
        return data;
    }

    /// <summary>
    /// DQ's training data for one query: the exhaustive DP's optimal plan of the query and of up to
    /// <paramref name="subplans"/> other connected subsets (each an optimal plan of the sub-query it
    /// joins, straight from the DP table); every join of those plans, replayed in post-order as a
    /// sequence of one-step decisions, is an example labelled with the optimal cost-to-go: the cost of
    /// that join plus every later join of the plan. Two kinds of non-optimal decisions are labelled
    /// exactly as well: the same join with its inputs swapped (later joins do not depend on the
    /// orientation, so its cost-to-go differs only by its own cost) and, for each sampled sub-query,
    /// last joins of other splits into two optimal halves (cost-to-go: that join's own cost). With
    /// <paramref name="allActions"/>, every state of the query's own optimal plan also labels every
    /// other join available there: its own cost plus the optimal completion after it, found by DPccp
    /// over the state's nodes, so the network sees the tempting wrong turns of the states it plans from.
    /// </summary>
    public static TrainingData Generate(Featurizer featurizer, QueryGraph graph, CostModel model, int subplans, int seed, bool allActions)
    {
        var data = new TrainingData(featurizer.Size);
        var slots = featurizer.SlotsOf(graph);
        var table = DpCcp.Solve(graph, model);
        var candidates = table.Plans().Where(p => !p.IsLeaf && p.Relations != graph.All).ToList();
        var random = new Random(seed);
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        var chosen = new List<Plan> { table[graph.All]! };
        chosen.AddRange(candidates.Take(subplans));
        var row = new float[featurizer.Size];
        if (allActions)
            AddAllActions(featurizer, graph, model, slots, chosen[0], skipOwn: true, data, row);
        foreach (var plan in chosen)
        {
            AddDecisions(featurizer, graph, model, slots, plan, data, row);
            AddSplits(featurizer, graph, model, slots, plan.Relations, table, random, data, row);
        }
        return data;
    }

    private const int SplitDraws = 12;

    private static void AddDecisions(Featurizer featurizer, QueryGraph graph, CostModel model, int[] slots, Plan plan, TrainingData data, float[] row)
    {
        var nodes = new List<Plan>();
        for (var rest = plan.Relations; rest != 0; rest &= rest - 1)
            nodes.Add(Plan.Leaf(graph, BitOperations.TrailingZeroCount(rest)));
        var done = 0.0;
        foreach (var join in plan.Joins())
        {
            var left = join.Left!;
            var right = join.Right!;
            var otherRows = 0.0;
            foreach (var node in nodes)
            {
                if (node.Relations != left.Relations && node.Relations != right.Relations)
                    otherRows += node.Rows;
            }
            var own = join.Cost - left.Cost - right.Cost;
            var costToGo = plan.Cost - done;
            featurizer.Write(graph, slots, plan.Relations, left, right, join.Rows, own, otherRows, nodes.Count - 2, row);
            data.Add(row, costToGo);
            var swapped = model.Join(graph, JoinInput.Of(right), JoinInput.Of(left), join.Rows).Cost;
            featurizer.Write(graph, slots, plan.Relations, right, left, join.Rows, swapped, otherRows, nodes.Count - 2, row);
            data.Add(row, costToGo - own + swapped);
            done += own;
            nodes.RemoveAll(n => n.Relations == left.Relations || n.Relations == right.Relations);
            nodes.Add(join);
        }
    }

    /// <summary>
    /// Training data from the states a planner visits: replays <paramref name="plan"/> (a complete plan
    /// of <paramref name="graph"/>, e.g. DQ's own) and labels every join available at each of its states
    /// with its exact cost-to-go — DQ's correction for the states its greedy policy reaches.
    /// </summary>
    public static TrainingData FromVisitedStates(Featurizer featurizer, QueryGraph graph, CostModel model, Plan plan)
    {
        var data = new TrainingData(featurizer.Size);
        AddAllActions(featurizer, graph, model, featurizer.SlotsOf(graph), plan, skipOwn: false, data, new float[featurizer.Size]);
        return data;
    }

    /// <summary>
    /// Replays <paramref name="plan"/> in post-order; at each state labels every join of two adjacent
    /// nodes, in both orientations (with <paramref name="skipOwn"/>, except the plan's own next join,
    /// which <see cref="AddDecisions"/> labels).
    /// </summary>
    private static void AddAllActions(Featurizer featurizer, QueryGraph graph, CostModel model, int[] slots, Plan plan, bool skipOwn, TrainingData data, float[] row)
    {
        var nodes = new List<Plan>();
        for (var rest = plan.Relations; rest != 0; rest &= rest - 1)
            nodes.Add(Plan.Leaf(graph, BitOperations.TrailingZeroCount(rest)));
        var totalRows = nodes.Sum(n => n.Rows);
        var sunk = 0.0;
        foreach (var join in plan.Joins())
        {
            for (var a = 0; a < nodes.Count; a++)
            {
                for (var b = a + 1; b < nodes.Count; b++)
                {
                    var (na, nb) = (nodes[a], nodes[b]);
                    if (!graph.Connected(na.Relations, nb.Relations) || (skipOwn && (na.Relations | nb.Relations) == join.Relations))
                        continue;
                    var ab = model.Join(graph, na, nb);
                    var ba = model.Join(graph, nb, na);
                    var next = new List<Plan>(nodes.Count - 1) { ab };
                    next.AddRange(nodes.Where((_, i) => i != a && i != b));
                    var completion = next.Count == 1 ? ab.Cost : DpCcp.Complete(graph, model, next).Cost;
                    var other = Math.Max(0, totalRows - na.Rows - nb.Rows);
                    var ownAb = ab.Cost - na.Cost - nb.Cost;
                    var ownBa = ba.Cost - na.Cost - nb.Cost;
                    featurizer.Write(graph, slots, plan.Relations, na, nb, ab.Rows, ownAb, other, nodes.Count - 2, row);
                    data.Add(row, completion - sunk);
                    featurizer.Write(graph, slots, plan.Relations, nb, na, ab.Rows, ownBa, other, nodes.Count - 2, row);
                    data.Add(row, completion - ab.Cost + ba.Cost - sunk);
                }
            }
            sunk += join.Cost - join.Left!.Cost - join.Right!.Cost;
            totalRows += join.Rows - join.Left.Rows - join.Right.Rows;
            nodes.RemoveAll(n => n.Relations == join.Left.Relations || n.Relations == join.Right.Relations);
            nodes.Add(join);
        }
    }

    /// <summary>Random splits of <paramref name="set"/> into two connected, adjacent halves, each built optimally; the label is the last join's own cost.</summary>
    private static void AddSplits(Featurizer featurizer, QueryGraph graph, CostModel model, int[] slots, ulong set, DpTable table, Random random, TrainingData data, float[] row)
    {
        var members = new List<int>();
        for (var rest = set; rest != 0; rest &= rest - 1)
            members.Add(BitOperations.TrailingZeroCount(rest));
        if (members.Count < 3)
            return;
        for (var draw = 0; draw < SplitDraws; draw++)
        {
            var half = 0UL;
            foreach (var m in members)
            {
                if (random.Next(2) == 0)
                    half |= 1UL << m;
            }
            var other = set & ~half;
            if (half == 0 || other == 0 || !graph.IsConnected(half) || !graph.IsConnected(other))
                continue;
            var left = table[half]!;
            var right = table[other]!;
            var rows = left.Rows * right.Rows * graph.SelectivityBetween(half, other);
            var own = model.Join(graph, JoinInput.Of(left), JoinInput.Of(right), rows).Cost;
            featurizer.Write(graph, slots, set, left, right, rows, own, 0, 0, row);
            data.Add(row, own);
        }
    }
}

/// <summary><see cref="TrainingData"/> as plain arrays (MessagePack-friendly): CSR rows and labels.</summary>
internal sealed record TrainingDataWire(int FeatureSize, int[] RowStarts, ushort[] Indices, float[] Values, double[] CostToGo);
