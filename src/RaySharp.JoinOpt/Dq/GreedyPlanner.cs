using RaySharp.Nn;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// DQ's greedy planning with a copy of the Q-network's weights. Each step scores every connected pair
/// of the current nodes in both orientations as one batch: the first layer is assembled incrementally
/// (one-hot columns are summed into per-node vectors once, when a node is made, and only the
/// pair-dependent scalars are added per candidate), then every further layer is one matrix multiply
/// over all candidates. Buffers are per thread and reused, so a plan allocates only its plan nodes.
/// </summary>
internal sealed class GreedyPlanner
{
    private readonly Featurizer _featurizer;
    private readonly float[] _firstT;     // first layer, transposed: column f is _firstT[f*h .. (f+1)*h)
    private readonly float[][] _weights;  // layers 1.. as [out × in] row-major
    private readonly float[][] _biases;
    private readonly int _hidden;

    [ThreadStatic]
    private static Workspace? _workspace;

    public GreedyPlanner(Featurizer featurizer, IReadOnlyList<Linear> layers)
    {
        _featurizer = featurizer;
        var first = layers[0].Weight.Span;
        _hidden = layers[0].OutFeatures;
        var ins = layers[0].InFeatures;
        _firstT = new float[ins * _hidden];
        for (var o = 0; o < _hidden; o++)
        {
            for (var i = 0; i < ins; i++)
                _firstT[i * _hidden + o] = first[o * ins + i];
        }
        _weights = [.. layers.Select(l => l.Weight.Span.ToArray())];
        _biases = [.. layers.Select(l => l.Bias!.Span.ToArray())];
    }

    /// <summary>Plans <paramref name="graph"/> greedily: at each step joins the candidate with the lowest predicted cost-to-go.</summary>
    public Plan Plan(QueryGraph graph, CostModel model)
    {
        var work = Prepare(graph);
        var count = graph.Count;
        while (count > 1)
        {
            var candidates = Candidates(graph, model, work, count);
            var best = Predict(work, candidates);
            var a = work.CandidateLeft[best];
            var b = work.CandidateRight[best];
            var joined = model.Join(graph, work.Plans[a], work.Plans[b]);
            // The joined node takes the lower slot; the last node moves into the higher one.
            var (keep, drop) = a < b ? (a, b) : (b, a);
            Merge(work, keep, drop, joined);
            count--;
            if (drop != count)
                Move(work, count, drop);
        }
        var plan = work.Plans[0];
        Array.Clear(work.Plans); // the buffers outlive the call; the plans belong to the caller
        return plan;
    }

    /// <summary>The prediction (normalised log cost-to-go) for joining relation <paramref name="left"/> with <paramref name="right"/> as the first step.</summary>
    public float FirstStepPrediction(QueryGraph graph, CostModel model, int left, int right)
    {
        var work = Prepare(graph);
        var candidates = Candidates(graph, model, work, graph.Count);
        Predict(work, candidates);
        for (var c = 0; c < candidates; c++)
        {
            if (work.CandidateLeft[c] == left && work.CandidateRight[c] == right)
                return work.Predictions[c];
        }
        throw new ArgumentException($"Relations {left} and {right} of '{graph.Name}' share no join edge.");
    }

    private ReadOnlySpan<float> Column(int feature) => _firstT.AsSpan(feature * _hidden, _hidden);

    private Span<float> Row(float[] matrix, int row) => matrix.AsSpan(row * _hidden, _hidden);

    /// <summary>
    /// The leaves: each with its one-hot contribution as a left and as a right input (its one-hot column
    /// minus its remaining-graph column, the remaining graph being every relation not in the pair) and
    /// that plus its rows scalar; the base is the first layer's bias plus every remaining-graph column.
    /// </summary>
    private Workspace Prepare(QueryGraph graph)
    {
        var n = graph.Count;
        var work = _workspace;
        if (work is null || work.Nodes < n || work.Hidden != _hidden || work.Widest < _biases.Max(b => b.Length))
            _workspace = work = new Workspace(Math.Max(n, work?.Nodes ?? 0), _hidden, _biases.Max(b => b.Length));
        var slots = _featurizer.SlotsOf(graph);
        var baseVector = work.Base.AsSpan(0, _hidden);
        _biases[0].CopyTo(baseVector);
        for (var i = 0; i < n; i++)
        {
            var weight = Featurizer.GraphWeight(graph, i);
            var graphColumn = Column(_featurizer.GraphOffset + slots[i]);
            TensorPrimitives.MultiplyAdd(graphColumn, weight, baseVector, baseVector);
            TensorPrimitives.MultiplyAdd(graphColumn, -weight, Column(_featurizer.LeftOffset + slots[i]), Row(work.OneHotLeft, i));
            TensorPrimitives.MultiplyAdd(graphColumn, -weight, Column(_featurizer.RightOffset + slots[i]), Row(work.OneHotRight, i));
            work.Plans[i] = JoinOpt.Plan.Leaf(graph, i);
            WithRows(work, i);
        }
        return work;
    }

    /// <summary>Node <paramref name="i"/>'s left and right vectors with its rows scalar added (it is fixed for the node's life).</summary>
    private void WithRows(Workspace work, int i)
    {
        var rows = Featurizer.LogRows(work.Plans[i].Rows);
        TensorPrimitives.MultiplyAdd(Column(_featurizer.ScalarOffset + 0), rows, Row(work.OneHotLeft, i), Row(work.Left, i));
        TensorPrimitives.MultiplyAdd(Column(_featurizer.ScalarOffset + 1), rows, Row(work.OneHotRight, i), Row(work.Right, i));
    }

    private void Merge(Workspace work, int keep, int other, Plan joined)
    {
        TensorPrimitives.Add(Row(work.OneHotLeft, keep), Row(work.OneHotLeft, other), Row(work.OneHotLeft, keep));
        TensorPrimitives.Add(Row(work.OneHotRight, keep), Row(work.OneHotRight, other), Row(work.OneHotRight, keep));
        work.Plans[keep] = joined;
        WithRows(work, keep);
    }

    private void Move(Workspace work, int from, int to)
    {
        Row(work.OneHotLeft, from).CopyTo(Row(work.OneHotLeft, to));
        Row(work.OneHotRight, from).CopyTo(Row(work.OneHotRight, to));
        Row(work.Left, from).CopyTo(Row(work.Left, to));
        Row(work.Right, from).CopyTo(Row(work.Right, to));
        work.Plans[to] = work.Plans[from];
    }

    /// <summary>Writes the first layer's activation of every candidate of this step; returns how many there are.</summary>
    private int Candidates(QueryGraph graph, CostModel model, Workspace work, int count)
    {
        var plans = work.Plans;
        var totalRows = 0.0;
        for (var i = 0; i < count; i++)
            totalRows += plans[i].Rows;
        // The step's base: the bias, the remaining-graph columns and the number of other nodes.
        var stepBase = work.StepBase.AsSpan(0, _hidden);
        TensorPrimitives.MultiplyAdd(Column(_featurizer.ScalarOffset + 4), (count - 2) / 16f, work.Base.AsSpan(0, _hidden), stepBase);
        var scalars = work.Scalars;
        var c = 0;
        for (var a = 0; a < count; a++)
        {
            for (var b = a + 1; b < count; b++)
            {
                var pa = plans[a];
                var pb = plans[b];
                if (!graph.Connected(pa.Relations, pb.Relations))
                    continue;
                var rows = pa.Rows * pb.Rows * graph.SelectivityBetween(pa.Relations, pb.Relations);
                var other = Math.Max(0, totalRows - pa.Rows - pb.Rows);
                Candidate(graph, model, work, c++, a, b, rows, other, scalars);
                Candidate(graph, model, work, c++, b, a, rows, other, scalars);
            }
        }
        return c;
    }

    private void Candidate(QueryGraph graph, CostModel model, Workspace work, int c, int l, int r, double rows, double other, float[] scalars)
    {
        var left = work.Plans[l];
        var right = work.Plans[r];
        var own = model.Join(graph, JoinInput.Of(left), JoinInput.Of(right), rows).Cost;
        Featurizer.Scalars(graph, left, right, rows, own, other, 0, scalars);
        var row = Row(work.Activations[0], c);
        TensorPrimitives.Add(work.StepBase.AsSpan(0, _hidden), Row(work.Left, l), row);
        TensorPrimitives.Add(row, Row(work.Right, r), row);
        // Scalars 0, 1 (rows of each side) are in the node vectors and 4 (other nodes) in the step base.
        for (var k = 2; k < Featurizer.ScalarCount; k++)
        {
            if (k != 4 && scalars[k] != 0)
                TensorPrimitives.MultiplyAdd(Column(_featurizer.ScalarOffset + k), scalars[k], row, row);
        }
        TensorPrimitives.Max(row, 0f, row);
        work.CandidateLeft[c] = l;
        work.CandidateRight[c] = r;
    }

    /// <summary>Runs layers 1.. over all candidates (one matrix multiply per hidden layer); returns the index of the lowest prediction.</summary>
    private int Predict(Workspace work, int candidates)
    {
        var input = work.Activations[0];
        var width = _hidden;
        var last = _weights.Length - 1;
        for (var layer = 1; layer < last; layer++)
        {
            var outs = _biases[layer].Length;
            var output = work.Activations[layer % 2 == 1 ? 1 : 2];
            Blas.Sgemm(false, true, candidates, outs, width, 1f, input.AsSpan(0, candidates * width), _weights[layer], 0f, output.AsSpan(0, candidates * outs));
            for (var c = 0; c < candidates; c++)
            {
                var row = output.AsSpan(c * outs, outs);
                TensorPrimitives.Add(row, _biases[layer], row);
                TensorPrimitives.Max(row, 0f, row);
            }
            input = output;
            width = outs;
        }
        var best = 0;
        var weights = _weights[last];
        var bias = _biases[last][0];
        for (var c = 0; c < candidates; c++)
        {
            var q = bias + TensorPrimitives.Dot(weights, input.AsSpan(c * width, width));
            work.Predictions[c] = q;
            if (q < work.Predictions[best])
                best = c;
        }
        return best;
    }

    /// <summary>Per-thread buffers for graphs of up to <see cref="Nodes"/> relations.</summary>
    private sealed class Workspace
    {
        public Workspace(int nodes, int hidden, int widest)
        {
            Nodes = nodes;
            Hidden = hidden;
            Widest = widest;
            var maxCandidates = Math.Max(1, nodes * (nodes - 1));
            Base = new float[hidden];
            StepBase = new float[hidden];
            OneHotLeft = new float[nodes * hidden];
            OneHotRight = new float[nodes * hidden];
            Left = new float[nodes * hidden];
            Right = new float[nodes * hidden];
            Plans = new Plan[nodes];
            Activations = [new float[maxCandidates * widest], new float[maxCandidates * widest], new float[maxCandidates * widest]];
            CandidateLeft = new int[maxCandidates];
            CandidateRight = new int[maxCandidates];
            Predictions = new float[maxCandidates];
        }

        public int Nodes { get; }

        public int Hidden { get; }

        public int Widest { get; }

        public float[] Base { get; }

        public float[] StepBase { get; }

        public float[] OneHotLeft { get; }

        public float[] OneHotRight { get; }

        public float[] Left { get; }

        public float[] Right { get; }

        public Plan[] Plans { get; }

        /// <summary>Candidate activations: [0] the first layer's, [1] and [2] alternate for later layers.</summary>
        public float[][] Activations { get; }

        public float[] Scalars { get; } = new float[Featurizer.ScalarCount];

        public int[] CandidateLeft { get; }

        public int[] CandidateRight { get; }

        public float[] Predictions { get; }
    }
}
