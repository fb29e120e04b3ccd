using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace RaySharp.Tune.Tests;

public sealed class TunerTests : TempDirectoryTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private string Dir(string name) => Path.Combine(Root, name);

    private static SearchSpace QualitySpace() => new() { ["q"] = Space.Uniform(0, 1), ["name"] = "curve" };

    /// <summary>A learning curve acc = q·(1 − e^(−t/10)); the state (iteration) is checkpointed every step.</summary>
    private static TrainableFunction Curve(int maxIterations, ConcurrentBag<(string Trial, int From)>? restores = null) => async (trial, ct) =>
    {
        var start = trial.Checkpoint?.ToObject<int>() ?? 0;
        Assert.Equal(start, trial.Iteration);
        if (trial.Checkpoint is not null)
            restores?.Add((trial.TrialId, start));
        var q = trial.Config.Get<double>("q");
        for (var i = start; i < maxIterations; i++)
            await trial.ReportAsync("acc", q * (1 - Math.Exp(-(i + 1) / 10.0)), Checkpoint.FromObject(i + 1));
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
            Assert.False(cancel.IsCancellationRequested, $"The experiment did not finish within {Timeout}.");
        }
    }

    [Fact]
    public async Task Random_search_runs_num_samples_trials_and_writes_each_trials_results()
    {
        var tuner = new Tuner(Curve(5), QualitySpace(), new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 6,
            MaxConcurrentTrials = 3,
            ExperimentDirectory = Dir("random"),
        });
        var results = await Fit(tuner);

        Assert.Equal(6, results.Trials.Count);
        Assert.All(results.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.All(results.Trials, t => Assert.Equal([1, 2, 3, 4, 5], t.Results.Select(r => r.Iteration)));
        Assert.Equal(30, results.TotalIterations);
        var best = results.Trials.MaxBy(t => t.Config.Get<double>("q"))!;
        Assert.Same(best, results.GetBestTrial());
        Assert.Equal(best.Config.Get<double>("q"), results.BestConfig.Get<double>("q"));
        Assert.Equal(5, results.BestCheckpoint!.ToObject<int>());

        var trialDir = Path.Combine(Dir("random"), "trials", best.Id);
        var csv = File.ReadAllLines(Path.Combine(trialDir, "progress.csv"));
        Assert.Equal("iteration,time_s,acc", csv[0]);
        Assert.Equal(6, csv.Length);
        var json = File.ReadAllLines(Path.Combine(trialDir, "result.jsonl")).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(5, json.Length);
        Assert.Equal(best.LastResult!["acc"], json[^1]["acc"]!.GetValue<double>());
        Assert.Equal("curve", JsonNode.Parse(File.ReadAllText(Path.Combine(trialDir, "params.json")))!["name"]!.GetValue<string>());
        Assert.Equal(5, Directory.GetFiles(trialDir, "checkpoint_*.bin").Length);
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir("random"), "experiment_state.json")))!;
        Assert.Equal(6, state["trials"]!.AsArray().Count);
        Assert.Equal("RandomSearcher", state["searcher"]!["searcher"]!.GetValue<string>());
        Assert.Equal(7, File.ReadAllLines(Path.Combine(Dir("random"), "results.csv")).Length);
        Assert.Contains(best.Id, results.ToTable(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_progress_table_shows_counts_the_best_trial_and_the_top_rows()
    {
        using var progress = new StringWriter();
        var results = await Fit(new Tuner(Curve(3), new SearchSpace { ["q"] = Space.Grid(0.2, 0.6, 0.4) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            ExperimentDirectory = Dir("progress"),
            Progress = progress,
        }));
        var lines = progress.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var best = results.GetBestTrial();
        Assert.StartsWith("== Tune: 3 trials (3 terminated) | best acc ", lines[0], StringComparison.Ordinal);
        Assert.Contains($"(trial {best.Id})", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("trial", lines[1], StringComparison.Ordinal);
        Assert.StartsWith(best.Id, lines[3], StringComparison.Ordinal); // best first, after header and rule
    }

    [Fact]
    public async Task Plots_of_the_learning_curves_and_the_search_are_written_as_png()
    {
        var results = await Fit(new Tuner(Curve(15), QualitySpace(), new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 6,
            ExperimentDirectory = Dir("plots"),
        }));
        var paths = results.SavePlots();
        Assert.Equal(["learning_curves.png", "search.png"], paths.Select(Path.GetFileName));
        foreach (var path in paths)
        {
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.True(bytes.Length > 5_000, $"{path} has only {bytes.Length} bytes");
        }
        Assert.Throws<ArgumentException>(() => results.SavePlots(width: 10));
    }

    [Fact]
    public async Task Grid_axes_are_expanded_num_samples_times()
    {
        var space = new SearchSpace { ["q"] = Space.Grid(0.1, 0.5, 0.9), ["seed"] = Space.Int(0, 100) };
        var results = await Fit(new Tuner(Curve(1), space, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 2,
            ExperimentDirectory = Dir("grid"),
        }));
        Assert.Equal([0.1, 0.1, 0.5, 0.5, 0.9, 0.9], results.Trials.Select(t => t.Config.Get<double>("q")).Order());
    }

    [Fact]
    public async Task Asha_stops_poor_trials_early_and_lets_the_best_reach_max_t()
    {
        var results = await Fit(new Tuner(Curve(27), QualitySpace(), new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 20,
            MaxConcurrentTrials = 2,
            Searcher = new RandomSearcher(7),
            Scheduler = new AshaScheduler(new() { MaxT = 27, GracePeriod = 1, ReductionFactor = 3 }),
            ExperimentDirectory = Dir("asha"),
        }));
        Assert.True(results.TotalIterations < 20 * 27 / 2, $"ASHA ran {results.TotalIterations} of {20 * 27} iterations");
        Assert.Equal(27, results.GetBestTrial().Iteration);
        Assert.Contains(results.Trials, t => t.Iteration == 1);
    }

    [Fact]
    public async Task HyperBand_resumes_paused_trials_from_their_checkpoints()
    {
        var restores = new ConcurrentBag<(string Trial, int From)>();
        var results = await Fit(new Tuner(Curve(9, restores), QualitySpace(), new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 9,
            MaxConcurrentTrials = 2,
            Scheduler = new HyperBandScheduler(new() { MaxT = 9, ReductionFactor = 3 }),
            ExperimentDirectory = Dir("hyperband"),
        }));
        // First bracket: 9 trials to iteration 1, the best 3 resume to 3, the best one to 9.
        Assert.Equal([1, 1, 1, 1, 1, 1, 3, 3, 9], results.Trials.Select(t => t.Iteration).Order());
        Assert.All(results.Trials, t => Assert.Equal(Enumerable.Range(1, t.Iteration), t.Results.Select(r => r.Iteration)));
        // Promoted trials that were paused resume from the milestone's checkpoint (the trial whose report
        // completes a round continues without pausing): 3 − (0 or 1) from iteration 1, 1 − (0 or 1) from 3.
        var from = restores.Select(r => r.From).ToArray();
        Assert.InRange(from.Count(f => f == 1), 2, 3);
        Assert.InRange(from.Count(f => f == 3), 0, 1);
        Assert.Equal(from.Length, from.Count(f => f is 1 or 3));
        Assert.Equal(results.Trials.MaxBy(t => t.Config.Get<double>("q")), results.GetBestTrial());
    }

    [Fact]
    public async Task Pbt_restarts_bottom_trials_from_a_top_trials_checkpoint_with_an_explored_config()
    {
        var origins = new ConcurrentBag<(string Trial, string Origin)>();
        // Every trial reports once before any reports again, so at iteration 3 the whole population is
        // ranked whatever the thread timing; the score (= lr) does not depend on the iteration.
        var firstReports = 0;
        var allReported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TrainableFunction train = async (trial, ct) =>
        {
            var (origin, step) = trial.Checkpoint?.ToObject<PbtState>() ?? new PbtState(trial.TrialId, 0);
            if (origin != trial.TrialId)
                origins.Add((trial.TrialId, origin));
            var lr = trial.Config.Get<double>("lr");
            for (var i = step; i < 12; i++)
            {
                await trial.ReportAsync("score", lr, Checkpoint.FromObject(new PbtState(origin, i + 1)));
                if (i == 0 && Interlocked.Increment(ref firstReports) == 4)
                    allReported.TrySetResult();
                await allReported.Task.WaitAsync(Timeout, ct);
            }
        };
        var pbt = new PbtScheduler(new PbtOptions
        {
            Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0.1, 10) },
            PerturbationInterval = 3,
            QuantileFraction = 0.25,
            Seed = 1,
        });
        var results = await Fit(new Tuner(train, new SearchSpace { ["lr"] = Space.Uniform(0.1, 10) }, new TuneOptions
        {
            Metric = "score",
            Mode = TuneMode.Max,
            NumSamples = 4,
            MaxConcurrentTrials = 4,
            Scheduler = pbt,
            ExperimentDirectory = Dir("pbt"),
        }));
        Assert.NotEmpty(pbt.Exploits);
        Assert.NotEmpty(origins);
        Assert.All(pbt.Exploits, e => Assert.NotEqual(e.Trial, e.Donor));
        Assert.All(results.Trials, t => Assert.Equal(12, t.Iteration));
    }

    [Fact]
    public async Task A_failing_trial_is_retried_from_its_latest_checkpoint()
    {
        var runs = 0;
        TrainableFunction train = async (trial, ct) =>
        {
            Interlocked.Increment(ref runs);
            var start = trial.Checkpoint?.ToObject<int>() ?? 0;
            for (var i = start; i < 5; i++)
            {
                if (i == 3 && trial.Checkpoint is null)
                    throw new InvalidOperationException("simulated crash at iteration 4");
                await trial.ReportAsync("loss", 5 - i, i % 2 == 1 ? Checkpoint.FromObject(i + 1) : null);
            }
        };
        var results = await Fit(new Tuner(train, QualitySpace(), new TuneOptions
        {
            Metric = "loss",
            NumSamples = 1,
            MaxFailures = 1,
            ExperimentDirectory = Dir("retry"),
        }));
        var trial = Assert.Single(results.Trials);
        Assert.Equal(TrialStatus.Terminated, trial.Status);
        Assert.Equal(1, trial.Failures);
        Assert.Equal(2, runs);
        // Results 1-3, crash, restore from the checkpoint at 2, then 3-5 again.
        Assert.Equal([1, 2, 3, 3, 4, 5], trial.Results.Select(r => r.Iteration));
    }

    [Fact]
    public async Task A_trial_that_keeps_failing_ends_as_an_error_while_the_others_finish()
    {
        TrainableFunction train = async (trial, ct) =>
        {
            if (trial.Config.Get<double>("q") > 0.5)
                throw new InvalidOperationException("bad config");
            await trial.ReportAsync("loss", 1);
        };
        var results = await Fit(new Tuner(train, new SearchSpace { ["q"] = Space.Grid(0.2, 0.8) }, new TuneOptions
        {
            Metric = "loss",
            MaxFailures = 2,
            ExperimentDirectory = Dir("errors"),
        }));
        var failed = Assert.Single(results.Errors);
        Assert.Equal(3, failed.Failures);
        Assert.Contains("bad config", failed.Error!.Message, StringComparison.Ordinal);
        Assert.Equal(TrialStatus.Terminated, results.Trials.Single(t => t != failed).Status);
    }

    [Fact]
    public async Task A_metric_the_trainable_never_reports_fails_the_experiment_with_a_clear_error()
    {
        TrainableFunction train = async (trial, ct) =>
        {
            for (var i = 0; i < 1000; i++)
                await trial.ReportAsync("accuracy", 0.5);
        };
        var tuner = new Tuner(train, QualitySpace(), new TuneOptions { Metric = "loss", NumSamples = 4, ExperimentDirectory = Dir("metric") });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => tuner.FitAsync());
        Assert.Contains("'loss'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'accuracy'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_is_rejected_before_any_trial_starts()
    {
        var started = false;
        TrainableFunction train = (trial, ct) =>
        {
            started = true;
            return Task.CompletedTask;
        };
        Assert.Throws<ArgumentException>(() => new Tuner(train, new SearchSpace(), new TuneOptions { Metric = "loss" }));
        var mode = Assert.Throws<ArgumentException>(() => new Tuner(train, QualitySpace(), new TuneOptions { Metric = "loss", Mode = (TuneMode)3 }));
        Assert.Contains("TuneMode.Min or TuneMode.Max", mode.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Tuner(train, QualitySpace(), new TuneOptions { Metric = "" }));
        Assert.Throws<ArgumentException>(() => new Tuner(train, QualitySpace(), new TuneOptions { Metric = "loss", NumSamples = 0 }));
        Assert.Throws<ArgumentException>(() => new Tuner(train, new SearchSpace { ["g"] = Space.Grid(1, 2) }, new TuneOptions { Metric = "loss", Searcher = new TpeSearcher() }));
        var computed = Assert.Throws<ArgumentException>(() => new Tuner(train, new SearchSpace
        {
            ["x"] = Space.Uniform(0, 1),
            ["y"] = Space.Computed(c => c.Get<double>("z") * 2),
        }, new TuneOptions { Metric = "loss" }));
        Assert.Contains("'y'", computed.Message, StringComparison.Ordinal);
        Assert.False(started);
    }

    [Fact]
    public async Task Cancelling_the_experiment_stops_running_trials_and_saves_them_as_unfinished()
    {
        var reported = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TrainableFunction endless = async (trial, ct) =>
        {
            for (var i = 0; ; i++)
            {
                await trial.ReportAsync("loss", 1.0 / (i + 1));
                if (i == 10)
                    reported.TrySetResult();
            }
        };
        using var cancel = new CancellationTokenSource();
        var fit = new Tuner(endless, QualitySpace(), new TuneOptions { Metric = "loss", NumSamples = 2, ExperimentDirectory = Dir("cancel") })
            .FitAsync(cancel.Token);
        await reported.Task.WaitAsync(Timeout);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fit.WaitAsync(Timeout));
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir("cancel"), "experiment_state.json")))!;
        // Saved as still running, as a kill would leave them: a restore resumes them from their checkpoints.
        Assert.All(state["trials"]!.AsArray(), t => Assert.Equal("Running", t!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_experiment_stopper_ends_the_experiment_when_the_target_is_reached()
    {
        var results = await Fit(new Tuner(Curve(50), new SearchSpace { ["q"] = Space.Grid(0.2, 0.9, 0.3, 0.4, 0.5) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            MaxConcurrentTrials = 1,
            Stopper = new MetricThresholdStopper("acc", 0.5, TuneMode.Max, stopExperiment: true),
            ExperimentDirectory = Dir("target"),
        }));
        // Trial 1 (q = 0.2) never reaches 0.5; trial 2 (q = 0.9) does and ends the experiment.
        Assert.Equal(50, results.Trials[0].Iteration);
        Assert.True(results.Trials.Count <= 3, $"{results.Trials.Count} trials were created");
        Assert.True(results.Trials[1].LastResult!["acc"] >= 0.5);
    }

    [Fact]
    public async Task No_more_trials_run_at_once_than_allowed()
    {
        var running = 0;
        var peak = 0;
        TrainableFunction train = async (trial, ct) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            for (var i = 0; i < 3; i++)
            {
                await Task.Yield();
                await trial.ReportAsync("loss", i);
            }
            Interlocked.Decrement(ref running);
        };
        await Fit(new Tuner(train, QualitySpace(), new TuneOptions { Metric = "loss", NumSamples = 12, MaxConcurrentTrials = 2, ExperimentDirectory = Dir("concurrency") }));
        Assert.InRange(peak, 1, 2);
    }

    [Fact]
    public async Task Only_the_best_checkpoints_are_kept_on_disk()
    {
        var results = await Fit(new Tuner(Curve(6), new SearchSpace { ["q"] = Space.Grid(0.7) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            KeepCheckpoints = 2,
            ExperimentDirectory = Dir("keep"),
        }));
        var files = Directory.GetFiles(Path.Combine(Dir("keep"), "trials", results.Trials[0].Id), "checkpoint_*.bin").Select(Path.GetFileName).Order();
        Assert.Equal(["checkpoint_000004.bin", "checkpoint_000005.bin", "checkpoint_000006.bin"], files); // best two + latest
    }

    [Fact]
    public async Task A_searcher_that_waits_on_trials_the_scheduler_has_paused_is_reported_as_stuck()
    {
        var tuner = new Tuner(Curve(9), QualitySpace(), new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 9,
            Searcher = new ConcurrencyLimiter(new RandomSearcher(), 1),
            Scheduler = new HyperBandScheduler(new() { MaxT = 9, ReductionFactor = 3 }),
            ExperimentDirectory = Dir("stuck"),
        });
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => tuner.FitAsync());
        Assert.Contains("stuck", e.Message, StringComparison.Ordinal);
    }

    public sealed record PbtState(string Origin, int Step);

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
