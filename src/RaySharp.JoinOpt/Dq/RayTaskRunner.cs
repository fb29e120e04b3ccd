namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// Runs DQ's work as RaySharp tasks: one task per query generates its DP-optimal training data in a
/// worker process, and one task per training set (per fold in cross-validation) trains a network from
/// those tasks' results, which it receives as object references (the driver never holds the data).
/// Queries travel as serialised graphs (relations, rows, edges and selectivities), so workers need no
/// catalog; networks come back as their weights. Results are bit-for-bit those of
/// <see cref="ThreadPoolTaskRunner"/> with the same seeds (each training task runs its matrix
/// multiplies on one thread, as the thread-pool runner's callers are told to).
/// </summary>
/// <example>
/// <code>
/// await using var ray = await Ray.InitAsync();
/// var cv = DqCrossValidation.Run(catalog, queries, CostModel.CM1, runner: new RayTaskRunner(ray));
/// </code>
/// </example>
public sealed class RayTaskRunner : DqTaskRunner
{
    private readonly Ray _ray;

    /// <summary>Creates a runner submitting to <paramref name="ray"/>.</summary>
    /// <param name="ray">A connected RaySharp driver (embedded cluster, attached, or local mode).</param>
    /// <param name="timeout">How long to wait for all of one batch of tasks; default 2 hours.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is not positive.</exception>
    public RayTaskRunner(Ray ray, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(ray);
        if (timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), $"timeout must be positive, got {t}.");
        _ray = ray;
        Timeout = timeout ?? TimeSpan.FromHours(2);
    }

    /// <summary>How long one batch of tasks (all data generation, or all training) may take.</summary>
    public TimeSpan Timeout { get; }

    internal override TrainingData[] Generate(Featurizer featurizer, IReadOnlyList<QueryGraph> queries, CostModel model, DqOptions options, CancellationToken cancellationToken)
    {
        var refs = Enumerable.Range(0, queries.Count).Select(i => SubmitGenerate(featurizer, queries[i], i, model, options)).ToArray();
        return [.. Wait(refs, cancellationToken).Select(TrainingData.FromWire)];
    }

    internal override DqOptimizer[] Train(Featurizer featurizer, IReadOnlyList<QueryGraph> queries, IReadOnlyList<int[]> trainingSets,
        CostModel model, CostModel? pretrainOn, DqOptions options, CancellationToken cancellationToken)
    {
        var used = Used(trainingSets);
        var data = new ObjectRef<TrainingDataWire>?[queries.Count];
        var pretrainData = new ObjectRef<TrainingDataWire>?[queries.Count];
        foreach (var i in used)
        {
            data[i] = SubmitGenerate(featurizer, queries[i], i, model, options);
            if (pretrainOn is not null)
                pretrainData[i] = SubmitGenerate(featurizer, queries[i], i, pretrainOn, options);
        }
        var graphs = queries.Select(GraphWire.Of).ToArray();
        var trained = trainingSets.Select((set, s) =>
        {
            var spec = new FoldSpec([.. featurizer.Tables], DqOptionsWire.Of(options), model.Name, pretrainOn?.Name, [.. set.Select(i => graphs[i])]);
            var inputs = set.Select(i => data[i]!).Concat(pretrainOn is null ? [] : set.Select(i => pretrainData[i]!)).ToArray();
            return _ray.Task(RemoteWork.TrainModel, spec, inputs)
                .WithOptions(new TaskOptions { Name = $"DQ.Train[{s}] {model.Name}" })
                .Remote();
        }).ToArray();
        return [.. Wait(trained, cancellationToken).Select(w => DqOptimizer.FromWire(featurizer, options, w))];
    }

    private ObjectRef<TrainingDataWire> SubmitGenerate(Featurizer featurizer, QueryGraph query, int index, CostModel model, DqOptions options) =>
        _ray.Task(RemoteWork.Generate, new GenerateSpec(GraphWire.Of(query), [.. featurizer.Tables], model.Name, options.SubplansPerQuery, RemoteWork.QuerySeed(options, index), options.LabelAllActions))
            .WithOptions(new TaskOptions { Name = $"DQ.Generate {query.Name} {model.Name}" })
            .Remote();

    private T[] Wait<T>(ObjectRef<T>[] refs, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(refs.Select(r => r.GetAsync(Timeout, cancellationToken).AsTask()));
        return all.ConfigureAwait(false).GetAwaiter().GetResult();
    }
}
