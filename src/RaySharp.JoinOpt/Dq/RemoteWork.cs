using System.Diagnostics.CodeAnalysis;

namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// The static functions <see cref="RayTaskRunner"/> submits as RaySharp tasks, and the shapes their
/// arguments and results travel in (plain records of arrays and strings, MessagePack-friendly).
/// </summary>
internal static class RemoteWork
{
    /// <summary>The seed of query <paramref name="index"/>'s sub-plan sampling.</summary>
    public static int QuerySeed(DqOptions options, int index) => unchecked((int)options.Seed + index);

    /// <summary>Task: DQ's training data of one query (DP-optimal plans labelled with their cost-to-go).</summary>
    public static TrainingDataWire Generate(GenerateSpec spec)
    {
        var featurizer = new Featurizer(spec.Tables);
        return TrainingData.Generate(featurizer, spec.Graph.ToGraph(), CostModel.Parse(spec.Model), spec.Subplans, spec.Seed, spec.AllActions).ToWire();
    }

    /// <summary>
    /// Task: one network trained on <paramref name="parts"/> — the training set's data under the target
    /// model, followed (when <see cref="FoldSpec.PretrainOn"/> is set) by the same queries' data under
    /// the pre-training model — then on the states it visits planning <see cref="FoldSpec.Queries"/>.
    /// </summary>
    [SuppressMessage("Performance", "CA1859", Justification = "The signature is the task's wire contract.")]
    public static DqModelWire TrainModel(FoldSpec spec, TrainingDataWire[] parts)
    {
        // This task holds one CPU; OpenBLAS threads would contend with the tasks beside it, and one
        // thread makes the result identical to the thread-pool runner's.
        RaySharp.Nn.Blas.Threads = 1;
        var featurizer = new Featurizer(spec.Tables);
        var options = spec.Options.ToOptions();
        var data = parts.Select(TrainingData.FromWire).ToArray();
        var count = spec.PretrainOn is null ? data.Length : data.Length / 2;
        var dq = DqOptimizer.TrainModel(featurizer, data.Take(count), spec.PretrainOn is null ? null : data.Skip(count),
            CostModel.Parse(spec.Model), spec.PretrainOn is null ? null : CostModel.Parse(spec.PretrainOn), options,
            [.. spec.Queries.Select(q => q.ToGraph())], CancellationToken.None);
        return dq.ToWire();
    }
}

/// <summary>Arguments of <see cref="RemoteWork.Generate"/>.</summary>
internal sealed record GenerateSpec(GraphWire Graph, string[] Tables, string Model, int Subplans, int Seed, bool AllActions);

/// <summary>Arguments of <see cref="RemoteWork.TrainModel"/> besides the data.</summary>
internal sealed record FoldSpec(string[] Tables, DqOptionsWire Options, string Model, string? PretrainOn, GraphWire[] Queries);

/// <summary>A trained network: its parameters in <c>NamedParameters</c> order and its label normalisation.</summary>
internal sealed record DqModelWire(float[][] Parameters, double LabelMean, double LabelStd, string TrainedFor);

/// <summary><see cref="DqOptions"/> as plain values.</summary>
internal sealed record DqOptionsWire(int[] HiddenSizes, int Epochs, int FineTuneEpochs, int BatchSize, float LearningRate, int SubplansPerQuery, bool LabelAllActions, int PolicyRounds, int PolicyEpochs, ulong Seed)
{
    public static DqOptionsWire Of(DqOptions o) => new([.. o.HiddenSizes], o.Epochs, o.FineTuneEpochs, o.BatchSize, o.LearningRate, o.SubplansPerQuery, o.LabelAllActions, o.PolicyRounds, o.PolicyEpochs, o.Seed);

    public DqOptions ToOptions() => new()
    {
        HiddenSizes = HiddenSizes,
        Epochs = Epochs,
        FineTuneEpochs = FineTuneEpochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        SubplansPerQuery = SubplansPerQuery,
        LabelAllActions = LabelAllActions,
        PolicyRounds = PolicyRounds,
        PolicyEpochs = PolicyEpochs,
        Seed = Seed,
    };
}

/// <summary>A <see cref="QueryGraph"/> as plain arrays: relations, edges and primary-key joins.</summary>
internal sealed record GraphWire(string Name, string[] Aliases, string[] Tables, double[] BaseRows, double[] Rows, string[] Selections,
    int[] EdgeLeft, int[] EdgeRight, double[] EdgeSelectivity, string[] EdgePredicates, ulong[] PrimaryKeyJoins)
{
    public static GraphWire Of(QueryGraph g) => new(g.Name,
        [.. g.Relations.Select(r => r.Alias)], [.. g.Relations.Select(r => r.Table)], [.. g.Relations.Select(r => r.BaseRows)],
        [.. g.Relations.Select(r => r.Rows)], [.. g.Relations.Select(r => r.Selections)],
        [.. g.Edges.Select(e => e.Left)], [.. g.Edges.Select(e => e.Right)], [.. g.Edges.Select(e => e.Selectivity)], [.. g.Edges.Select(e => e.Predicates)],
        [.. g.PrimaryKeyJoins]);

    public QueryGraph ToGraph() => new(Name,
        [.. Aliases.Select((a, i) => new Relation(a, Tables[i], BaseRows[i], Rows[i], Selections[i]))],
        [.. EdgeLeft.Select((l, i) => new JoinEdge(l, EdgeRight[i], EdgeSelectivity[i], EdgePredicates[i]))],
        [.. PrimaryKeyJoins]);
}
