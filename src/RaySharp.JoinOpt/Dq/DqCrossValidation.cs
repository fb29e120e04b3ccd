using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Dq;

/// <summary>A query planned by a DQ model that did not see it in training.</summary>
/// <param name="Query">The held-out query.</param>
/// <param name="Fold">The fold it was held out in.</param>
/// <param name="Result">DQ's plan, cost and planning time.</param>
public sealed record DqHeldOutResult(QueryGraph Query, int Fold, PlanResult Result);

/// <summary>The outcome of a cross-validation: held-out plans of every query and the fold models.</summary>
/// <param name="Results">One entry per query, in input order.</param>
/// <param name="Models">The model trained for each fold (fold i never saw the queries of fold i).</param>
public sealed record DqCrossValidationResult(IReadOnlyList<DqHeldOutResult> Results, IReadOnlyList<DqOptimizer> Models);

/// <summary>
/// k-fold cross-validation of DQ over a set of queries: queries are shuffled (seeded) and dealt into k
/// folds; for each fold a network is trained on the other folds' DP-optimal decisions and plans the
/// fold's queries. Training data (one item per query) and the folds run on a <see cref="DqTaskRunner"/>
/// (this process's thread pool, or RaySharp tasks with <see cref="RayTaskRunner"/>).
/// </summary>
public static class DqCrossValidation
{
    /// <summary>Runs the cross-validation for <paramref name="model"/>.</summary>
    /// <param name="catalog">The catalog the queries were built against (its tables are DQ's vocabulary).</param>
    /// <param name="queries">The queries; at least <paramref name="folds"/> of them.</param>
    /// <param name="model">The cost model DQ plans for.</param>
    /// <param name="folds">Number of folds (default 4).</param>
    /// <param name="options">Network and training settings.</param>
    /// <param name="pretrainOn">When set, each fold first trains on this (cheaper) model's labels, then fine-tunes on <paramref name="model"/>'s.</param>
    /// <param name="runner">Where work items run (default: the thread pool).</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">Fewer queries than folds, or fewer than two folds.</exception>
    public static DqCrossValidationResult Run(Catalog catalog, IReadOnlyList<QueryGraph> queries, CostModel model, int folds = 4,
        DqOptions? options = null, CostModel? pretrainOn = null, DqTaskRunner? runner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(model);
        if (folds < 2)
            throw new ArgumentException($"Cross-validation needs at least two folds, got {folds}.", nameof(folds));
        if (queries.Count < folds)
            throw new ArgumentException($"{folds}-fold cross-validation needs at least {folds} queries, got {queries.Count}.", nameof(queries));
        options ??= new DqOptions();
        options.Validate();
        runner ??= ThreadPoolTaskRunner.Default;
        var featurizer = new Featurizer(catalog.Tables);
        foreach (var query in queries)
            featurizer.SlotsOf(query);

        var order = Enumerable.Range(0, queries.Count).ToArray();
        new Random(unchecked((int)options.Seed + 11)).Shuffle(order);
        var foldOf = new int[queries.Count];
        for (var position = 0; position < order.Length; position++)
            foldOf[order[position]] = position % folds;
        var trainingSets = Enumerable.Range(0, folds).Select(fold => Enumerable.Range(0, queries.Count).Where(i => foldOf[i] != fold).ToArray()).ToArray();
        var models = runner.Train(featurizer, queries, trainingSets, model, pretrainOn, options, cancellationToken);

        // Planning runs after all training, one query at a time, so planning times are not disturbed by training.
        var results = new DqHeldOutResult[queries.Count];
        for (var i = 0; i < queries.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results[i] = new DqHeldOutResult(queries[i], foldOf[i], models[foldOf[i]].Optimize(queries[i], model));
        }
        return new DqCrossValidationResult(results, models);
    }
}
