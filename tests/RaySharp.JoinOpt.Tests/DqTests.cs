using RaySharp.JoinOpt;
using RaySharp.JoinOpt.Dq;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Tests;

public sealed class DqTests
{
    // Folds train side by side on the thread pool; OpenBLAS's own threads would fight them (see the README).
    static DqTests() => RaySharp.Nn.Blas.Threads = 1;

    internal static readonly DqOptions Small = new() { HiddenSizes = [32, 16], Epochs = 8, SubplansPerQuery = 20, FineTuneEpochs = 2, PolicyRounds = 1, PolicyEpochs = 2 };

    internal static readonly Lazy<List<QueryGraph>> Queries = new(() => TestData.JobQueryFiles.Select(f => QueryGraph.FromFile(f, TestData.Job)).ToList());

    private static readonly Lazy<DqOptimizer> CoutModel = new(() => DqOptimizer.Train(TestData.Job, Queries.Value, CostModel.Cout, Small));

    [Fact]
    public void The_first_decision_of_an_optimal_plan_is_labelled_with_the_optimum_and_later_ones_with_less()
    {
        var graph = Queries.Value.First(q => q.Count == 8);
        var featurizer = new Featurizer(TestData.Job.Tables);
        var data = TrainingData.Generate(featurizer, graph, CostModel.CM1, subplans: 0, seed: 1, allActions: false);
        var optimum = JoinEnumerator.Exhaustive.Optimize(graph, CostModel.CM1).Plan;
        Assert.Equal(optimum.Cost, data.CostToGo(0), 6);
        // Decisions come in pairs (optimal orientation, swapped); the optimal ones' cost-to-go shrinks to the root join's own cost.
        for (var k = 1; k < graph.Count - 1; k++)
            Assert.True(data.CostToGo(2 * k) <= data.CostToGo(2 * (k - 1)), $"decision {k}");
        Assert.Equal(optimum.Cost - optimum.Left!.Cost - optimum.Right!.Cost, data.CostToGo(2 * (graph.Count - 2)), 6);
        Assert.True(data.Count >= 2 * (graph.Count - 1));
    }

    [Fact]
    public void Every_action_of_an_optimal_plans_first_state_is_labelled_no_cheaper_than_the_optimum_and_the_best_equals_it()
    {
        var graph = Queries.Value.First(q => q.Count == 7);
        var featurizer = new Featurizer(TestData.Job.Tables);
        var optimum = JoinEnumerator.Exhaustive.Optimize(graph, CostModel.CM2).Plan;
        var data = TrainingData.FromVisitedStates(featurizer, graph, CostModel.CM2, optimum);
        // The first state has one action per edge and orientation (edges between the same two relations are one).
        var pairs = graph.Edges.Select(e => (Math.Min(e.Left, e.Right), Math.Max(e.Left, e.Right))).Distinct().Count();
        var first = Enumerable.Range(0, 2 * pairs).Select(data.CostToGo).ToList();
        Assert.All(first, label => Assert.True(label >= optimum.Cost * (1 - 1e-9), $"label {label} below the optimum {optimum.Cost}"));
        Assert.Equal(optimum.Cost, first.Min(), 6);
    }

    [Fact]
    public void Completing_a_state_of_single_relations_by_DP_finds_the_exhaustive_optimum()
    {
        foreach (var graph in Queries.Value.Where(q => q.Count is >= 5 and <= 9).Take(5))
        {
            var leaves = Enumerable.Range(0, graph.Count).Select(i => Plan.Leaf(graph, i)).ToList();
            var completed = DpCcp.Complete(graph, CostModel.CM1, leaves);
            Assert.Equal(JoinEnumerator.Exhaustive.Optimize(graph, CostModel.CM1).Cost, completed.Cost, 6);
            Assert.Equal(graph.All, completed.Relations);
        }
    }

    [Fact]
    public void Completing_a_state_keeps_its_nodes_and_costs_at_least_as_much_as_the_unconstrained_optimum()
    {
        var graph = Queries.Value.First(q => q.Count == 8);
        var optimum = JoinEnumerator.Exhaustive.Optimize(graph, CostModel.CM3);
        var edge = graph.Edges[0];
        var joined = CostModel.CM3.Join(graph, Plan.Leaf(graph, edge.Left), Plan.Leaf(graph, edge.Right));
        var nodes = Enumerable.Range(0, graph.Count).Where(i => i != edge.Left && i != edge.Right).Select(i => Plan.Leaf(graph, i)).Prepend(joined).ToList();
        var completed = DpCcp.Complete(graph, CostModel.CM3, nodes);
        Assert.True(completed.Cost >= optimum.Cost * (1 - 1e-9));
        Assert.Contains(completed.Joins(), j => j.Relations == joined.Relations);
    }

    [Fact]
    public void The_planners_fast_path_predicts_exactly_what_the_Nn_network_predicts()
    {
        var dq = CoutModel.Value;
        var graph = Queries.Value.First(q => q.Count == 17);
        foreach (var edge in graph.Edges.Take(6))
        {
            var dense = dq.PredictFirstStep(graph, CostModel.Cout, edge.Left, edge.Right);
            var fast = dq.PredictFirstStepFast(graph, CostModel.Cout, edge.Left, edge.Right);
            Assert.Equal(dense, fast, 3);
        }
    }

    [Fact]
    public void DQ_returns_complete_plans_whose_cost_matches_the_cost_model()
    {
        var dq = CoutModel.Value;
        foreach (var graph in Queries.Value.Where((_, i) => i % 4 == 0))
        {
            var result = dq.Optimize(graph, CostModel.Cout);
            Assert.Equal(graph.All, result.Plan.Relations);
            Assert.Equal(graph.Count - 1, result.Plan.Joins().Count());
            Assert.Equal(1.0, CostModel.Cout.Recost(graph, result.Plan).Cost / result.Cost, 9);
            Assert.Equal("DQ", result.Method);
        }
    }

    [Fact]
    public void DQ_trained_on_the_shipped_queries_plans_them_close_to_the_optimum()
    {
        var dq = CoutModel.Value;
        var ratios = Queries.Value.Select(q => dq.Optimize(q, CostModel.Cout).Cost / JoinEnumerator.Exhaustive.Optimize(q, CostModel.Cout).Cost).ToList();
        Assert.True(ratios.Average() < 1.5, $"mean relative cost on training queries {ratios.Average():F3}");
    }

    [Fact]
    public void A_saved_model_loads_and_plans_identically()
    {
        var dq = CoutModel.Value;
        var path = Path.Combine(Path.GetTempPath(), $"dq-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        try
        {
            dq.Save(path);
            var loaded = DqOptimizer.Load(path);
            Assert.Equal("Cout", loaded.TrainedFor);
            Assert.Equal(dq.LabelMean, loaded.LabelMean);
            foreach (var graph in Queries.Value.Where((_, i) => i % 10 == 0))
                Assert.Equal(dq.Optimize(graph, CostModel.Cout).Plan.ToString(graph), loaded.Optimize(graph, CostModel.Cout).Plan.ToString(graph));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Loading_a_file_that_is_not_a_DQ_model_says_so()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-dq-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        try
        {
            RaySharp.Nn.Safetensors.Save(path, [("w", RaySharp.Nn.Tensor.Zeros(2, 2))]);
            var error = Assert.Throws<JoinOptException>(() => DqOptimizer.Load(path));
            Assert.Contains("not a DQ model", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_query_file_given_as_a_model_is_refused_as_not_a_safetensors_file()
    {
        var sql = TestData.JobQueryFiles.First();
        var error = Assert.Throws<JoinOptException>(() => DqOptimizer.Load(sql));
        Assert.Contains($"'{sql}' is not a DQ model: it is not a readable safetensors file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_model_is_refused_as_not_a_safetensors_file()
    {
        WithSavedModel(path =>
        {
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var error = Assert.Throws<JoinOptException>(() => DqOptimizer.Load(path));
            Assert.Contains("not a readable safetensors file", error.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void A_directory_or_a_missing_file_given_as_a_model_is_named()
    {
        var directory = Path.GetTempPath();
        Assert.Contains("is a directory", Assert.Throws<JoinOptException>(() => DqOptimizer.Load(directory)).Message, StringComparison.Ordinal);
        var missing = Path.Combine(directory, $"no-dq-{Guid.NewGuid():N}.safetensors");
        Assert.Contains($"'{missing}' does not exist", Assert.Throws<FileNotFoundException>(() => DqOptimizer.Load(missing)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hidden", "32,x", "metadata 'hidden' is '32,x', expected comma-separated positive layer sizes")]
    [InlineData("hidden", "32,0", "metadata 'hidden' is '32,0'")]
    [InlineData("trained_for", "CM9", "metadata 'trained_for' is 'CM9', expected one of Cout, CM1, CM2, CM3")]
    [InlineData("label_std", "0", "metadata 'label_std' is '0', expected a positive number")]
    [InlineData("label_mean", "NaN", "metadata 'label_mean' is 'NaN', expected a finite number")]
    [InlineData("tables", "title,,name", "metadata 'tables' is 'title,,name'")]
    [InlineData("tables", null, "its metadata has no 'tables'")]
    [InlineData("hidden", "16,8", "its weights do not fit the network its metadata describes")]
    public void A_model_with_damaged_metadata_names_what_is_wrong(string key, string? value, string expected)
    {
        WithSavedModel(path =>
        {
            var metadata = RaySharp.Nn.Safetensors.ReadMetadata(path);
            var tensors = RaySharp.Nn.Safetensors.Load(path);
            if (value is null)
                metadata.Remove(key);
            else
                metadata[key] = value;
            RaySharp.Nn.Safetensors.Save(path, tensors.Select(t => (t.Key, t.Value)), metadata);
            var error = Assert.Throws<JoinOptException>(() => DqOptimizer.Load(path));
            Assert.Contains("is a damaged DQ model", error.Message, StringComparison.Ordinal);
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        });
    }

    /// <summary>Saves the shared Cout model (trained once per test run) to <paramref name="path"/>.</summary>
    internal static void SaveModel(string path) => CoutModel.Value.Save(path);

    /// <summary>Saves the shared Cout model to a temporary file, runs <paramref name="body"/> on it, deletes it.</summary>
    private static void WithSavedModel(Action<string> body)
    {
        var path = Path.Combine(Path.GetTempPath(), $"dq-{Environment.ProcessId}-{Guid.NewGuid():N}.safetensors");
        try
        {
            SaveModel(path);
            body(path);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Fine_tuning_switches_the_model_to_the_second_cost_model()
    {
        var queries = Queries.Value.Where((_, i) => i % 6 == 0).ToList();
        var dq = DqOptimizer.Train(TestData.Job, queries, CostModel.Cout, Small);
        var before = dq.LabelMean;
        dq.FineTune(queries, CostModel.CM2);
        Assert.Equal("CM2", dq.TrainedFor);
        Assert.NotEqual(before, dq.LabelMean);
        Assert.Equal(queries[0].All, dq.Optimize(queries[0], CostModel.CM2).Plan.Relations);
    }

    [Fact]
    public void Cross_validation_plans_every_query_once_with_a_model_of_another_fold()
    {
        var queries = Queries.Value.Where((_, i) => i % 3 == 0).ToList();
        var result = DqCrossValidation.Run(TestData.Job, queries, CostModel.CM1, folds: 4, Small);
        Assert.Equal(4, result.Models.Count);
        Assert.Equal(queries.Select(q => q.Name), result.Results.Select(r => r.Query.Name));
        var perFold = result.Results.GroupBy(r => r.Fold).Select(g => g.Count()).ToList();
        Assert.Equal(4, perFold.Count);
        Assert.True(perFold.Max() - perFold.Min() <= 1, string.Join(",", perFold));
        Assert.All(result.Results, r => Assert.Equal(r.Query.All, r.Result.Plan.Relations));
    }

    [Fact]
    public void Cross_validation_with_more_folds_than_queries_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => DqCrossValidation.Run(TestData.Job, Queries.Value.Take(3).ToList(), CostModel.CM1, folds: 4, Small));
        Assert.Contains("at least 4 queries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_out_of_range_are_named()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => (Small with { Epochs = 0 }).Validate());
        Assert.Contains("Epochs", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyRounds", Assert.Throws<ArgumentOutOfRangeException>(() => (Small with { PolicyRounds = -1 }).Validate()).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => (Small with { HiddenSizes = [] }).Validate());
    }

    [Fact]
    public void A_query_with_a_table_outside_the_vocabulary_is_rejected_with_its_name()
    {
        var featurizer = new Featurizer(["a", "b"]);
        var graph = QueryGraph.FromSql("SELECT MIN(c.x) FROM c AS c, a AS a WHERE c.a_id = a.id", TestData.Synthetic);
        var error = Assert.Throws<JoinOptException>(() => featurizer.SlotsOf(graph));
        Assert.Contains("'c'", error.Message, StringComparison.Ordinal);
    }
}
