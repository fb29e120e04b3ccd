using System.Globalization;
using System.Text.Json;
using RaySharp.JoinOpt.Enumerators;
using RaySharp.Nn;

namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// DQ (Krishnan et al., arXiv:1808.03196): a Q-network predicts the optimal cost-to-go of joining two
/// nodes of the current query graph; planning joins, greedily, the pair with the lowest prediction
/// until one node is left. Train it with <see cref="Train"/> (or <see cref="DqCrossValidation"/>),
/// optionally <see cref="FineTune"/> it on a second cost model, plan with
/// <see cref="JoinEnumerator.Optimize"/>, and keep it with <see cref="Save"/> / <see cref="Load"/>.
/// </summary>
/// <example>
/// <code>
/// var catalog = Catalog.Load(Catalog.FindDataDirectory());
/// var queries = Directory.GetFiles(dir, "*.sql").Select(f => QueryGraph.FromFile(f, catalog)).ToList();
/// var dq = DqOptimizer.Train(catalog, queries, CostModel.CM1);
/// PlanResult result = dq.Optimize(queries[0], CostModel.CM1);
/// dq.Save("dq-cm1.safetensors");
/// </code>
/// </example>
public sealed class DqOptimizer : JoinEnumerator
{
    private const string Format = "raysharp-dq-1";

    private readonly Featurizer _featurizer;
    private readonly Mlp _network;
    private readonly DqOptions _options;
    private GreedyPlanner _planner = null!;

    private DqOptimizer(Featurizer featurizer, DqOptions options, Mlp network, string trainedFor, double labelMean, double labelStd)
    {
        _featurizer = featurizer;
        _options = options;
        _network = network;
        TrainedFor = trainedFor;
        LabelMean = labelMean;
        LabelStd = labelStd;
        RefreshInference();
    }

    /// <inheritdoc/>
    public override string Name => "DQ";

    /// <summary>Name of the cost model whose labels the network learned last.</summary>
    public string TrainedFor { get; private set; }

    /// <summary>Labels are (log10(1 + cost-to-go) − mean) / std; these are mean and std.</summary>
    public double LabelMean { get; private set; }

    /// <inheritdoc cref="LabelMean"/>
    public double LabelStd { get; private set; }

    /// <summary>Generates DQ's training data from <paramref name="queries"/> (in parallel on <paramref name="runner"/>) and trains a network for <paramref name="model"/>.</summary>
    /// <param name="catalog">The catalog the queries were built against (its tables are DQ's vocabulary).</param>
    /// <param name="queries">The training queries.</param>
    /// <param name="model">The cost model whose optimal plans are the labels.</param>
    /// <param name="options">Network and training settings.</param>
    /// <param name="runner">Where data generation and training run (default: this process's thread pool).</param>
    /// <param name="cancellationToken">Stops the work.</param>
    /// <exception cref="ArgumentException">No queries.</exception>
    public static DqOptimizer Train(Catalog catalog, IReadOnlyList<QueryGraph> queries, CostModel model, DqOptions? options = null, DqTaskRunner? runner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(model);
        if (queries.Count == 0)
            throw new ArgumentException("DQ needs at least one training query.", nameof(queries));
        options ??= new DqOptions();
        options.Validate();
        var featurizer = new Featurizer(catalog.Tables);
        foreach (var query in queries)
            featurizer.SlotsOf(query);
        return (runner ?? ThreadPoolTaskRunner.Default).Train(featurizer, queries, [[.. Enumerable.Range(0, queries.Count)]], model, null, options, cancellationToken)[0];
    }

    /// <summary>
    /// Continues training on <paramref name="model"/>'s labels for <see cref="DqOptions.FineTuneEpochs"/>
    /// epochs (DQ's fine-tuning from a cheap cost model to an expensive one); returns this optimiser.
    /// The labels are generated on <paramref name="runner"/>; the network trains in this process.
    /// </summary>
    public DqOptimizer FineTune(IReadOnlyList<QueryGraph> queries, CostModel model, DqTaskRunner? runner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(model);
        var data = (runner ?? ThreadPoolTaskRunner.Default).Generate(_featurizer, queries, model, _options, cancellationToken);
        FineTuneOn(Merge(_featurizer, data), model, cancellationToken);
        return this;
    }

    internal static TrainingData Merge(Featurizer featurizer, IEnumerable<TrainingData> parts)
    {
        var all = new TrainingData(featurizer.Size);
        foreach (var part in parts)
            all.AddAll(part);
        if (all.Count == 0)
            throw new ArgumentException("DQ needs training queries with at least two relations.", nameof(parts));
        return all;
    }

    /// <summary>
    /// Trains a network on <paramref name="data"/> (<paramref name="model"/>'s labels), or, when
    /// <paramref name="pretrainOn"/> is set, on <paramref name="pretrainData"/> first and then
    /// fine-tunes it on <paramref name="data"/>; then runs <see cref="DqOptions.PolicyRounds"/> rounds
    /// on the states it visits planning <paramref name="queries"/> (the training queries). Every runner
    /// trains through this.
    /// </summary>
    internal static DqOptimizer TrainModel(Featurizer featurizer, IEnumerable<TrainingData> data, IEnumerable<TrainingData>? pretrainData,
        CostModel model, CostModel? pretrainOn, DqOptions options, IReadOnlyList<QueryGraph> queries, CancellationToken cancellationToken)
    {
        var target = Merge(featurizer, data);
        DqOptimizer dq;
        if (pretrainOn is null)
        {
            dq = TrainOn(featurizer, target, model, options, cancellationToken);
        }
        else
        {
            dq = TrainOn(featurizer, Merge(featurizer, pretrainData!), pretrainOn, options, cancellationToken);
            dq.FineTuneOn(target, model, cancellationToken);
        }
        for (var round = 0; round < options.PolicyRounds; round++)
        {
            foreach (var query in queries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (query.Count >= 2)
                    target.AddAll(TrainingData.FromVisitedStates(featurizer, query, model, dq._planner.Plan(query, model)));
            }
            dq.Fit(target, model, options.PolicyEpochs, cancellationToken);
        }
        return dq;
    }

    private static DqOptimizer TrainOn(Featurizer featurizer, TrainingData data, CostModel model, DqOptions options, CancellationToken cancellationToken)
    {
        var network = new Mlp(featurizer.Size, options.HiddenSizes, 1, Activation.ReLU, rng: new Rng(options.Seed + 1));
        var dq = new DqOptimizer(featurizer, options, network, model.Name, 0, 1);
        dq.Fit(data, model, options.Epochs, cancellationToken);
        return dq;
    }

    /// <summary>The trained network as plain arrays, to return from a worker process.</summary>
    internal DqModelWire ToWire() => new([.. _network.NamedParameters().Select(p => p.Value.Span.ToArray())], LabelMean, LabelStd, TrainedFor);

    /// <summary>Rebuilds a network sent with <see cref="ToWire"/>.</summary>
    internal static DqOptimizer FromWire(Featurizer featurizer, DqOptions options, DqModelWire wire)
    {
        var network = new Mlp(featurizer.Size, options.HiddenSizes, 1, Activation.ReLU, rng: new Rng(options.Seed + 1));
        var parameters = network.NamedParameters();
        if (parameters.Count != wire.Parameters.Length)
            throw new JoinOptException($"A DQ network sent back from a task has {wire.Parameters.Length} parameter tensors; a network of hidden sizes [{string.Join(",", options.HiddenSizes)}] has {parameters.Count}.");
        for (var p = 0; p < parameters.Count; p++)
        {
            if (parameters[p].Value.Length != wire.Parameters[p].Length)
                throw new JoinOptException($"Parameter '{parameters[p].Name}' of a DQ network sent back from a task has {wire.Parameters[p].Length} values, expected {parameters[p].Value.Length}.");
            wire.Parameters[p].CopyTo(parameters[p].Value.Span);
        }
        return new DqOptimizer(featurizer, options, network, wire.TrainedFor, wire.LabelMean, wire.LabelStd);
    }

    internal void FineTuneOn(TrainingData data, CostModel model, CancellationToken cancellationToken) =>
        Fit(data, model, _options.FineTuneEpochs, cancellationToken);

    private void Fit(TrainingData data, CostModel model, int epochs, CancellationToken cancellationToken)
    {
        var n = data.Count;
        var labels = new double[n];
        for (var i = 0; i < n; i++)
            labels[i] = Math.Log10(1 + data.CostToGo(i));
        LabelMean = labels.Average();
        LabelStd = Math.Max(1e-6, Math.Sqrt(labels.Sum(l => (l - LabelMean) * (l - LabelMean)) / n));
        TrainedFor = model.Name;

        var optimizer = new Adam(_network.Parameters(), _options.LearningRate);
        var random = new Random(unchecked((int)_options.Seed + 7));
        var order = Enumerable.Range(0, n).ToArray();
        var size = _featurizer.Size;
        var batch = Math.Min(_options.BatchSize, n);
        var x = new float[batch * size];
        var y = new float[batch];
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            for (var start = 0; start + batch <= n; start += batch)
            {
                cancellationToken.ThrowIfCancellationRequested();
                for (var b = 0; b < batch; b++)
                {
                    data.CopyRow(order[start + b], x.AsSpan(b * size, size));
                    y[b] = (float)((labels[order[start + b]] - LabelMean) / LabelStd);
                }
                optimizer.ZeroGrad();
                var loss = Loss.Mse(_network.Forward(Tensor.FromArray(x, batch, size)), Tensor.FromArray(y, batch, 1));
                loss.Backward();
                optimizer.Step();
            }
        }
        RefreshInference();
    }

    /// <summary>Copies the network's weights into the planner's fast path.</summary>
    private void RefreshInference() => _planner = new GreedyPlanner(_featurizer, _network.Layers);

    /// <summary>The network's prediction (normalised log cost-to-go) for dense features, through the Nn MLP itself.</summary>
    internal float PredictDense(ReadOnlySpan<float> features)
    {
        using var _ = Tensor.NoGrad();
        return _network.Forward(Tensor.FromArray(features, 1, features.Length)).Item();
    }

    internal Featurizer Featurizer => _featurizer;

    private protected override Plan Enumerate(QueryGraph graph, CostModel model) => _planner.Plan(graph, model);

    /// <summary>Saves the network and everything needed to plan with it to one safetensors file.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["tables"] = string.Join(",", _featurizer.Tables),
            ["hidden"] = string.Join(",", _options.HiddenSizes),
            ["trained_for"] = TrainedFor,
            ["label_mean"] = LabelMean.ToString("R", CultureInfo.InvariantCulture),
            ["label_std"] = LabelStd.ToString("R", CultureInfo.InvariantCulture),
        };
        Safetensors.Save(path, _network.NamedParameters(), metadata);
    }

    /// <summary>Loads an optimiser written by <see cref="Save"/>, checking that the file is one.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="JoinOptException">
    /// The path is a directory, the file is not a safetensors file, not a DQ model, or a damaged one; the
    /// message says which and what is wrong.
    /// </exception>
    public static DqOptimizer Load(string path, DqOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new JoinOptException($"'{path}' is a directory, not a DQ model; give the .safetensors file that 'joinopt train' or DqOptimizer.Save wrote.");
        if (!File.Exists(path))
            throw new FileNotFoundException($"The DQ model '{path}' does not exist; make one with 'joinopt train' or DqOptimizer.Save.", path);
        Dictionary<string, string> metadata;
        try
        {
            // Load checks the framing, header and tensor offsets that ReadMetadata takes on trust.
            _ = Safetensors.Load(path);
            metadata = Safetensors.ReadMetadata(path);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException or KeyNotFoundException or FormatException or OverflowException or ArgumentException)
        {
            throw new JoinOptException($"'{path}' is not a DQ model: it is not a readable safetensors file ({e.Message}). Make one with 'joinopt train' or DqOptimizer.Save.", e);
        }
        if (metadata.GetValueOrDefault("format") != Format)
            throw new JoinOptException($"'{path}' is not a DQ model (its metadata has no format={Format}); save one with DqOptimizer.Save.");

        var tables = Metadata(metadata, path, "tables", "a comma-separated list of table names").Split(',');
        if (tables.Any(string.IsNullOrWhiteSpace))
            throw Damaged(path, "tables", metadata["tables"], "a comma-separated list of table names");
        var hidden = Metadata(metadata, path, "hidden", "comma-separated positive layer sizes").Split(',')
            .Select(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0 ? size : -1)
            .ToArray();
        if (hidden.Contains(-1))
            throw Damaged(path, "hidden", metadata["hidden"], "comma-separated positive layer sizes");
        var trainedFor = Metadata(metadata, path, "trained_for", "a cost model name");
        if (!CostModel.All.Any(m => m.Name == trainedFor))
            throw Damaged(path, "trained_for", trainedFor, $"one of {string.Join(", ", CostModel.All.Select(m => m.Name))}");
        var labelMean = Number(metadata, path, "label_mean", positive: false);
        var labelStd = Number(metadata, path, "label_std", positive: true);

        var featurizer = new Featurizer(tables);
        options = (options ?? new DqOptions()) with { HiddenSizes = hidden };
        var network = new Mlp(featurizer.Size, hidden, 1, Activation.ReLU, rng: new Rng(0));
        try
        {
            network.Load(path);
        }
        catch (InvalidDataException e)
        {
            throw new JoinOptException($"'{path}' is a damaged DQ model: its weights do not fit the network its metadata describes ({e.Message}).", e);
        }
        return new DqOptimizer(featurizer, options, network, trainedFor, labelMean, labelStd);
    }

    private static string Metadata(Dictionary<string, string> metadata, string path, string key, string expected) =>
        metadata.TryGetValue(key, out var value) && value.Length > 0
            ? value
            : throw new JoinOptException($"'{path}' is a damaged DQ model: its metadata has no '{key}' ({expected}).");

    private static double Number(Dictionary<string, string> metadata, string path, string key, bool positive)
    {
        var expected = positive ? "a positive number" : "a finite number";
        var text = Metadata(metadata, path, key, expected);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) && (!positive || value > 0)
            ? value
            : throw Damaged(path, key, text, expected);
    }

    private static JoinOptException Damaged(string path, string key, string value, string expected) =>
        new($"'{path}' is a damaged DQ model: its metadata '{key}' is '{value}', expected {expected}.");

    /// <summary>The normalised prediction for joining <paramref name="left"/> with <paramref name="right"/> as the first step of planning <paramref name="graph"/>.</summary>
    internal float PredictFirstStep(QueryGraph graph, CostModel model, int left, int right)
    {
        var row = new float[_featurizer.Size];
        var l = Plan.Leaf(graph, left);
        var r = Plan.Leaf(graph, right);
        var rows = l.Rows * r.Rows * graph.SelectivityBetween(l.Relations, r.Relations);
        var other = 0.0;
        for (var i = 0; i < graph.Count; i++)
        {
            if (i != left && i != right)
                other += graph.Relations[i].Rows;
        }
        var own = model.Join(graph, JoinInput.Of(l), JoinInput.Of(r), rows).Cost;
        _featurizer.Write(graph, _featurizer.SlotsOf(graph), graph.All, l, r, rows, own, other, graph.Count - 2, row);
        return PredictDense(row);
    }

    /// <summary>The planner's fast-path prediction for the same decision, to check it against <see cref="PredictFirstStep"/>.</summary>
    internal float PredictFirstStepFast(QueryGraph graph, CostModel model, int left, int right) => _planner.FirstStepPrediction(graph, model, left, right);
}
