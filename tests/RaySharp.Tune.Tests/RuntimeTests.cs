using System.Diagnostics;

namespace RaySharp.Tune.Tests;

/// <summary>An embedded single-node cluster with 2 CPUs shared by the runtime tests (which run one at a time).</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public Ray Ray { get; private set; } = null!;

    public async Task InitializeAsync() => Ray = await Ray.InitAsync(new RayOptions { NumCpus = 2 });

    public async Task DisposeAsync() => await Ray.DisposeAsync();
}

/// <summary>Trainables that worker processes load from this assembly (static: they capture nothing).</summary>
internal static class RemoteTrainables
{
    /// <summary>Score −(x − 0.3)² that sharpens over 3 iterations; reports the process it runs in.</summary>
    public static async Task Parabola(TrialContext trial, CancellationToken ct)
    {
        var x = trial.Config.Get<double>("x");
        for (var i = trial.Iteration + 1; i <= 3; i++)
        {
            await trial.ReportAsync(new Dictionary<string, double>
            {
                ["score"] = -(x - 0.3) * (x - 0.3) * (1 + 1.0 / i),
                ["pid"] = Environment.ProcessId,
            });
        }
    }

    /// <summary>Counts to 6, checkpointing every step; reports its process and the iteration it resumed from.</summary>
    public static async Task Counter(TrialContext trial, CancellationToken ct)
    {
        var start = trial.Checkpoint?.ToObject<int>() ?? 0;
        for (var i = start + 1; i <= 6; i++)
        {
            await trial.ReportAsync(new Dictionary<string, double>
            {
                ["i"] = i,
                ["pid"] = Environment.ProcessId,
                ["restored_from"] = start,
            }, Checkpoint.FromObject(i));
        }
    }

    /// <summary>Reports once; with seed 2 then throws from a nested method, in the worker process.</summary>
    public static async Task FailsInWorker(TrialContext trial, CancellationToken ct)
    {
        await trial.ReportAsync("score", trial.Config.Get<int>("seed"));
        if (trial.Config.Get<int>("seed") == 2)
            ThrowFromWorker();
    }

    private static void ThrowFromWorker() => throw new ArgumentOutOfRangeException("seed", $"seed 2 is out of range in process {Environment.ProcessId}");
}

/// <summary>A class trainable that counts how often its instance was reused through ResetConfig.</summary>
internal sealed class ReusableTrainable : Trainable
{
    private double _x;
    private int _step;
    private int _resets;

    public override void Setup(TrialConfig config) => _x = config.Get<double>("x");

    public override bool ResetConfig(TrialConfig config)
    {
        _x = config.Get<double>("x");
        _step = 0;
        _resets++;
        return true;
    }

    public override IReadOnlyDictionary<string, double> Step()
    {
        _step++;
        return new Dictionary<string, double>
        {
            ["score"] = -Math.Abs(_x - 0.5),
            ["resets"] = _resets,
            ["pid"] = Environment.ProcessId,
            ["done"] = _step >= 2 ? 1 : 0,
        };
    }
}

public sealed class RuntimeTests(ClusterFixture cluster) : TempDirectoryTest, IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private TuneOptions Options(string name, string metric, int samples = 1, int maxFailures = 0, IStopper? stopper = null) => new()
    {
        Metric = metric,
        Mode = TuneMode.Max,
        NumSamples = samples,
        MaxConcurrentTrials = 2,
        MaxFailures = maxFailures,
        Stopper = stopper,
        ExperimentDirectory = Path.Combine(Root, name),
        Ray = cluster.Ray,
    };

    private static async Task<ResultGrid> Fit(Tuner tuner)
    {
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            return await tuner.FitAsync(cancel.Token);
        }
        finally
        {
            Assert.False(cancel.IsCancellationRequested, $"The experiment on the cluster did not finish within {Timeout}.");
        }
    }

    private static double Last(Trial trial, string metric) => trial.LastResult!.Metrics[metric];

    [Fact]
    public async Task A_grid_search_on_the_cluster_finds_the_known_optimum_in_worker_processes()
    {
        var space = new SearchSpace { ["x"] = Space.Grid(0.0, 0.1, 0.2, 0.3, 0.4, 0.5) };
        var results = await Fit(new Tuner(RemoteTrainables.Parabola, space, Options("grid", "score")));

        Assert.Equal(6, results.Trials.Count);
        Assert.All(results.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.Equal(0.3, results.BestConfig.Get<double>("x"), 12);
        var pids = results.Trials.Select(t => (int)Last(t, "pid")).Distinct().ToList();
        Assert.DoesNotContain(Environment.ProcessId, pids);
        Assert.InRange(pids.Count, 1, 2); // 6 trials on at most 2 actors: actors were reused
    }

    [Fact]
    public async Task Class_trainables_on_actors_are_reused_through_reset_config()
    {
        var space = new SearchSpace { ["x"] = Space.Grid(0.1, 0.3, 0.5, 0.7) };
        var results = await Fit(new Tuner(() => new ReusableTrainable(), space, Options("reuse", "score")));

        Assert.All(results.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.Equal(0.5, results.BestConfig.Get<double>("x"), 12);
        Assert.Contains(results.Trials, t => Last(t, "resets") >= 1);
        Assert.DoesNotContain(results.Trials, t => (int)Last(t, "pid") == Environment.ProcessId);
    }

    [Fact]
    public async Task A_trial_whose_worker_process_is_killed_resumes_from_its_last_checkpoint()
    {
        var killed = 0;
        // Runs on the driver at each result: at iteration 3, kill -9 the worker process the trial runs in.
        var killer = new FunctionStopper((trial, result) =>
        {
            if (result.Iteration == 3 && Interlocked.Exchange(ref killed, (int)result.Metrics["pid"]) == 0)
                Process.GetProcessById((int)result.Metrics["pid"]).Kill();
            return false;
        });
        var results = await Fit(new Tuner(RemoteTrainables.Counter, new SearchSpace { ["seed"] = Space.Grid(1) }, Options("kill", "i", maxFailures: 1, stopper: killer)));

        var trial = Assert.Single(results.Trials);
        Assert.NotEqual(0, killed);
        Assert.Equal(TrialStatus.Terminated, trial.Status);
        Assert.Equal(1, trial.Failures);
        Assert.Equal(6, Last(trial, "i"));
        Assert.Equal(3, Last(trial, "restored_from"));
        Assert.NotEqual(killed, (int)Last(trial, "pid"));
    }

    [Fact]
    public async Task A_trial_failing_in_a_worker_process_keeps_the_remote_stack_trace_and_writes_error_txt()
    {
        var space = new SearchSpace { ["seed"] = Space.Grid(1, 2) };
        var results = await Fit(new Tuner(RemoteTrainables.FailsInWorker, space, Options("remote-error", "score")));

        var failed = Assert.Single(results.Errors);
        Assert.Equal(2, failed.Config.Get<int>("seed"));
        var error = failed.Error!;
        Assert.Equal("System.ArgumentOutOfRangeException", error.Type);
        Assert.StartsWith("seed 2 is out of range in process ", error.Message, StringComparison.Ordinal);
        var pid = int.Parse(System.Text.RegularExpressions.Regex.Match(error.Message, @"in process (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(Environment.ProcessId, pid);
        Assert.Contains("ThrowFromWorker", error.Details, StringComparison.Ordinal); // the worker's stack trace
        Assert.Contains(nameof(RemoteTrainables.FailsInWorker), error.Details, StringComparison.Ordinal);
        Assert.Contains($"thrown in worker process {pid}", error.Details, StringComparison.Ordinal);
        var text = File.ReadAllText(Path.Combine(Root, "remote-error", "trials", failed.Id, "error.txt"));
        Assert.Contains("ThrowFromWorker", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_experiment_on_the_cluster_interrupted_halfway_resumes_without_repeating_finished_trials()
    {
        var space = new SearchSpace { ["seed"] = Space.Grid(1, 2, 3, 4, 5, 6) };
        var dir = Path.Combine(Root, "restore");
        using var cancel = new CancellationTokenSource();
        var done = 0;
        // Runs on the driver at each result: once two trials have finished, cancel the experiment when
        // another one reaches iteration 3 (its checkpoint of iteration 3 is on disk by then).
        var interrupter = new FunctionStopper((_, result) =>
        {
            if (result.Iteration == 6)
                done++;
            else if (result.Iteration == 3 && done >= 2)
                cancel.Cancel();
            return false;
        });
        var first = new Tuner(RemoteTrainables.Counter, space, Options("restore", "i", stopper: interrupter));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.FitAsync(cancel.Token).WaitAsync(Timeout));

        var saved = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "experiment_state.json")))!["trials"]!.AsArray();
        var finished = saved.Where(t => t!["status"]!.GetValue<string>() == "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        var unfinished = saved.Where(t => t!["status"]!.GetValue<string>() == "Running").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        Assert.NotEmpty(finished);
        Assert.NotEmpty(unfinished);
        var finishedLines = finished.ToDictionary(id => id, id => File.ReadAllLines(Path.Combine(dir, "trials", id, "result.jsonl")));

        var restored = await Fit(Tuner.Restore(dir, RemoteTrainables.Counter, space, Options("restore", "i")));

        Assert.Equal(["00001", "00002", "00003", "00004", "00005", "00006"], restored.Trials.Select(t => t.Id));
        Assert.Equal([1, 2, 3, 4, 5, 6], restored.Trials.Select(t => t.Config.Get<int>("seed")).Order());
        Assert.All(restored.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.All(restored.Trials, t => Assert.Equal(6, Last(t, "i")));
        foreach (var (id, lines) in finishedLines)
            Assert.Equal(lines, File.ReadAllLines(Path.Combine(dir, "trials", id, "result.jsonl"))); // not run again
        // Unfinished trials resume from the checkpoint they had (a trial still waiting for its actor had none).
        var checkpoints = saved.ToDictionary(t => t!["id"]!.GetValue<string>(), t => t!["latest_checkpoint"]?.GetValue<int>() ?? 0);
        Assert.Contains(unfinished, id => checkpoints[id] >= 3);
        foreach (var trial in restored.Trials.Where(t => unfinished.Contains(t.Id)))
        {
            Assert.Equal(Enumerable.Range(1, 6), trial.Results.Select(r => r.Iteration));
            if (checkpoints[trial.Id] == 6)
                continue; // cancelled after its last report but before it completed: it resumes with nothing left to run
            Assert.Equal(checkpoints[trial.Id], Last(trial, "restored_from"));
            Assert.NotEqual(Environment.ProcessId, (int)Last(trial, "pid"));
        }
    }

    [Fact]
    public void A_trainable_that_captures_driver_state_is_rejected_before_any_trial_starts()
    {
        var captured = 0.5;
        TrainableFunction closure = async (trial, ct) => await trial.ReportAsync("score", captured);

        var e = Assert.Throws<ArgumentException>(() => new Tuner(closure, new SearchSpace { ["x"] = 1 }, Options("closure", "score")));
        Assert.Contains("captures state of this process", e.Message);
        Assert.False(Directory.Exists(Path.Combine(Root, "closure")));
    }

    [Fact]
    public void Bad_input_with_the_runtime_still_fails_when_the_tuner_is_created()
    {
        Assert.Throws<ArgumentException>(() => new Tuner(RemoteTrainables.Parabola, new SearchSpace(), Options("empty", "score")));
        var negative = Assert.Throws<ArgumentException>(() => new Tuner(RemoteTrainables.Parabola, new SearchSpace { ["x"] = 1 },
            new TuneOptions { Metric = "score", Ray = cluster.Ray, TrialResources = new TrialResources { Cpus = -1 } }));
        Assert.Contains("Cpus", negative.Message);
        Assert.Throws<ArgumentException>(() => new Tuner(RemoteTrainables.Parabola, new SearchSpace { ["x"] = 1 },
            new TuneOptions { Metric = "score", Mode = (TuneMode)7, Ray = cluster.Ray }));
    }
}
