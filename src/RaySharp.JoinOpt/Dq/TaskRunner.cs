namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// Where DQ's independent pieces of work run: training-data generation (one DP-optimal labelling per
/// query) and model training (one network per training set, e.g. per cross-validation fold).
/// <see cref="ThreadPoolTaskRunner"/> runs them on this process's thread pool;
/// <see cref="RayTaskRunner"/> runs each as a RaySharp task in a worker process.
/// </summary>
public abstract class DqTaskRunner
{
    private protected DqTaskRunner()
    {
    }

    /// <summary>The training data of each query, in order; query i uses seed <c>options.Seed + i</c>.</summary>
    internal abstract TrainingData[] Generate(Featurizer featurizer, IReadOnlyList<QueryGraph> queries, CostModel model, DqOptions options, CancellationToken cancellationToken);

    /// <summary>
    /// One trained network per entry of <paramref name="trainingSets"/> (indexes into
    /// <paramref name="queries"/>): trained on <paramref name="model"/>'s labels of those queries, or
    /// pre-trained on <paramref name="pretrainOn"/>'s and fine-tuned on <paramref name="model"/>'s.
    /// </summary>
    internal abstract DqOptimizer[] Train(Featurizer featurizer, IReadOnlyList<QueryGraph> queries, IReadOnlyList<int[]> trainingSets,
        CostModel model, CostModel? pretrainOn, DqOptions options, CancellationToken cancellationToken);

    /// <summary>The indexes of the queries some training set uses, ascending.</summary>
    private protected static int[] Used(IReadOnlyList<int[]> trainingSets) => [.. trainingSets.SelectMany(s => s).Distinct().Order()];
}

/// <summary>
/// Runs DQ's work items with <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> in this
/// process. Set <c>RaySharp.Nn.Blas.Threads = 1</c> when networks train side by side: OpenBLAS's own
/// threads otherwise fight the runner's.
/// </summary>
public sealed class ThreadPoolTaskRunner : DqTaskRunner
{
    /// <summary>Creates a runner using at most <paramref name="maxParallelism"/> threads (default: one per core).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxParallelism"/> is not positive.</exception>
    public ThreadPoolTaskRunner(int? maxParallelism = null)
    {
        if (maxParallelism is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxParallelism), $"maxParallelism must be positive, got {maxParallelism}.");
        MaxParallelism = maxParallelism ?? Environment.ProcessorCount;
    }

    /// <summary>The most work items that run at once.</summary>
    public int MaxParallelism { get; }

    /// <summary>A runner shared by default.</summary>
    public static ThreadPoolTaskRunner Default { get; } = new();

    internal override TrainingData[] Generate(Featurizer featurizer, IReadOnlyList<QueryGraph> queries, CostModel model, DqOptions options, CancellationToken cancellationToken)
    {
        var results = new TrainingData[queries.Count];
        Parallel.For(0, queries.Count, Options(cancellationToken),
            i => results[i] = TrainingData.Generate(featurizer, queries[i], model, options.SubplansPerQuery, RemoteWork.QuerySeed(options, i), options.LabelAllActions));
        return results;
    }

    internal override DqOptimizer[] Train(Featurizer featurizer, IReadOnlyList<QueryGraph> queries, IReadOnlyList<int[]> trainingSets,
        CostModel model, CostModel? pretrainOn, DqOptions options, CancellationToken cancellationToken)
    {
        var used = Used(trainingSets);
        var data = new TrainingData?[queries.Count];
        var pretrainData = new TrainingData?[queries.Count];
        Parallel.For(0, used.Length * (pretrainOn is null ? 1 : 2), Options(cancellationToken), k =>
        {
            var i = used[k % used.Length];
            var labels = k < used.Length ? model : pretrainOn!;
            var generated = TrainingData.Generate(featurizer, queries[i], labels, options.SubplansPerQuery, RemoteWork.QuerySeed(options, i), options.LabelAllActions);
            (k < used.Length ? data : pretrainData)[i] = generated;
        });
        var models = new DqOptimizer[trainingSets.Count];
        Parallel.For(0, trainingSets.Count, Options(cancellationToken), s => models[s] = DqOptimizer.TrainModel(featurizer,
            trainingSets[s].Select(i => data[i]!), pretrainOn is null ? null : trainingSets[s].Select(i => pretrainData[i]!), model, pretrainOn, options,
            [.. trainingSets[s].Select(i => queries[i])], cancellationToken));
        return models;
    }

    private ParallelOptions Options(CancellationToken cancellationToken) => new() { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken };
}
