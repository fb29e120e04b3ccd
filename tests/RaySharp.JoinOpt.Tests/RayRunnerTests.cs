using RaySharp.JoinOpt;
using RaySharp.JoinOpt.Dq;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Tests;

/// <summary>An embedded single-node RaySharp cluster (2 CPUs, real worker processes) for the runner tests.</summary>
public sealed class RayClusterFixture : IAsyncLifetime
{
    public Ray Ray { get; private set; } = null!;

    public async Task InitializeAsync() => Ray = await Ray.InitAsync(new RayOptions { NumCpus = 2 });

    public async Task DisposeAsync() => await Ray.DisposeAsync();
}

public sealed class RayRunnerTests(RayClusterFixture cluster) : IClassFixture<RayClusterFixture>
{
    // The thread-pool side trains folds side by side with one BLAS thread each, as the RaySharp tasks do.
    static RayRunnerTests() => RaySharp.Nn.Blas.Threads = 1;

    private static List<QueryGraph> Sample => [.. DqTests.Queries.Value.Where((_, i) => i % 6 == 0)];

    [Fact]
    public void Cross_validation_on_RaySharp_workers_trains_the_same_fold_models_as_the_thread_pool()
    {
        var queries = Sample;
        var onRay = DqCrossValidation.Run(TestData.Job, queries, CostModel.CM1, folds: 4, DqTests.Small, runner: new RayTaskRunner(cluster.Ray));
        var inProcess = DqCrossValidation.Run(TestData.Job, queries, CostModel.CM1, folds: 4, DqTests.Small, runner: new ThreadPoolTaskRunner(2));

        for (var fold = 0; fold < 4; fold++)
        {
            var remote = onRay.Models[fold].ToWire();
            var local = inProcess.Models[fold].ToWire();
            Assert.Equal(local.LabelMean, remote.LabelMean);
            Assert.Equal(local.Parameters.Length, remote.Parameters.Length);
            for (var p = 0; p < local.Parameters.Length; p++)
                Assert.Equal(local.Parameters[p], remote.Parameters[p]);
        }
        Assert.Equal(inProcess.Results.Select(r => r.Result.Cost), onRay.Results.Select(r => r.Result.Cost));
        var optimum = queries.Select(q => JoinEnumerator.Exhaustive.Optimize(q, CostModel.CM1).Cost).ToList();
        var meanRelative = onRay.Results.Select((r, q) => r.Result.Cost / optimum[q]).Average();
        Assert.True(meanRelative < 3, $"held-out mean relative cost under CM1 with RaySharp-trained folds: {meanRelative:F3}");
    }

    [Fact]
    public void Pre_training_and_fine_tuning_on_RaySharp_workers_match_the_thread_pool()
    {
        var queries = Sample.Take(8).ToList();
        var onRay = DqCrossValidation.Run(TestData.Job, queries, CostModel.CM2, folds: 2, DqTests.Small, pretrainOn: CostModel.Cout, runner: new RayTaskRunner(cluster.Ray));
        var inProcess = DqCrossValidation.Run(TestData.Job, queries, CostModel.CM2, folds: 2, DqTests.Small, pretrainOn: CostModel.Cout, runner: new ThreadPoolTaskRunner(2));
        Assert.All(onRay.Models, m => Assert.Equal("CM2", m.TrainedFor));
        Assert.Equal(inProcess.Results.Select(r => r.Result.Cost), onRay.Results.Select(r => r.Result.Cost));
        Assert.Equal(inProcess.Models[1].ToWire().Parameters[0], onRay.Models[1].ToWire().Parameters[0]);
    }

    [Fact]
    public void Training_data_generated_in_worker_processes_equals_the_in_process_data()
    {
        var queries = Sample.Take(4).ToList();
        var featurizer = new Featurizer(TestData.Job.Tables);
        var remote = new RayTaskRunner(cluster.Ray).Generate(featurizer, queries, CostModel.CM3, DqTests.Small, CancellationToken.None);
        var local = new ThreadPoolTaskRunner(2).Generate(featurizer, queries, CostModel.CM3, DqTests.Small, CancellationToken.None);
        for (var q = 0; q < queries.Count; q++)
        {
            Assert.True(local[q].Count > 0);
            Assert.Equal(local[q].ToWire().CostToGo, remote[q].ToWire().CostToGo);
            Assert.Equal(local[q].ToWire().Values, remote[q].ToWire().Values);
            Assert.Equal(local[q].ToWire().Indices, remote[q].ToWire().Indices);
        }
    }

    [Fact]
    public void The_work_really_runs_in_other_processes()
    {
        var pid = cluster.Ray.Task(ProcessId).Remote().Get(TimeSpan.FromSeconds(60));
        Assert.NotEqual(Environment.ProcessId, pid);
    }

    private static int ProcessId() => Environment.ProcessId;

    [Fact]
    public void A_non_positive_timeout_is_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RayTaskRunner(cluster.Ray, TimeSpan.Zero));
        Assert.Contains("timeout", error.Message, StringComparison.Ordinal);
    }
}
