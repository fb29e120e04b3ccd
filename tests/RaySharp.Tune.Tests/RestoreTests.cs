using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using RaySharp.Tune.TestDriver;

namespace RaySharp.Tune.Tests;

public sealed class RestoreTests : TempDirectoryTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static SearchSpace Space2() => KillableExperiment.Space();

    private static TuneOptions Options(string dir) => KillableExperiment.Options(dir);

    /// <summary>The killable experiment's trainable (20 checkpointed steps) without delay; records each run's start, counts reports.</summary>
    private static TrainableFunction Train(ConcurrentBag<(string Trial, int From)> starts, Action<int>? afterReport = null)
    {
        var total = 0;
        return KillableExperiment.Train(TimeSpan.Zero, (trial, from) => starts.Add((trial, from)), () => afterReport?.Invoke(Interlocked.Increment(ref total)));
    }

    private static string[] ConfigSet(ResultGrid results) => results.Trials.Select(t => t.Id + ":" + t.Config).Order().ToArray();

    [Fact]
    public async Task An_experiment_interrupted_halfway_resumes_and_ends_with_the_same_set_of_trials()
    {
        var reference = await new Tuner(Train([]), Space2(), Options(Path.Combine(Root, "reference"))).FitAsync().WaitAsync(Timeout);

        var dir = Path.Combine(Root, "interrupted");
        using var cancel = new CancellationTokenSource();
        var firstStarts = new ConcurrentBag<(string Trial, int From)>();
        var interrupted = new Tuner(Train(firstStarts, total => { if (total == 75) cancel.Cancel(); }), Space2(), Options(dir));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interrupted.FitAsync(cancel.Token).WaitAsync(Timeout));

        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "experiment_state.json")))!["trials"]!.AsArray();
        var finished = saved.Where(t => t!["status"]!.GetValue<string>() == "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        var unfinished = saved.Where(t => t!["status"]!.GetValue<string>() != "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        Assert.NotEmpty(finished);
        Assert.NotEmpty(unfinished);

        var secondStarts = new ConcurrentBag<(string Trial, int From)>();
        var results = await Tuner.Restore(dir, Train(secondStarts), Space2(), Options(dir)).FitAsync().WaitAsync(Timeout);

        Assert.Equal(ConfigSet(reference), ConfigSet(results));
        Assert.Empty(secondStarts.Select(s => s.Trial).Intersect(finished)); // finished trials are not run again
        Assert.Contains(secondStarts, s => unfinished.Contains(s.Trial) && s.From > 0); // unfinished ones resume from a checkpoint
        Assert.All(results.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.All(results.Trials, t => Assert.Equal(Enumerable.Range(1, 20), t.Results.Select(r => r.Iteration)));
        Assert.Equal(reference.GetBestTrial().Id, results.GetBestTrial().Id);
    }

    [Fact]
    public async Task After_a_restore_finished_trials_keep_their_checkpoints_so_the_best_model_can_be_deployed()
    {
        var dir = Path.Combine(Root, "deploy");
        using var cancel = new CancellationTokenSource();
        var interrupted = new Tuner(Train([], total => { if (total == 75) cancel.Cancel(); }), Space2(), Options(dir));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interrupted.FitAsync(cancel.Token).WaitAsync(Timeout));
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "experiment_state.json")))!["trials"]!.AsArray();
        var finished = saved.Where(t => t!["status"]!.GetValue<string>() == "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToList();
        Assert.NotEmpty(finished);

        // Resume, then deploy the best model: every trial, also those finished before the interruption, has
        // its last checkpoint (iteration 20), read from the file on disk.
        var results = await Tuner.Restore(dir, Train([]), Space2(), Options(dir)).FitAsync().WaitAsync(Timeout);
        Assert.All(results.Trials, t => Assert.Equal(20, t.LatestCheckpoint!.Iteration));
        Assert.All(results.Trials, t => Assert.Equal(20, t.LatestCheckpoint!.ToObject<int>()));
        var best = results.GetBestTrial();
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "trials", best.Id, "checkpoint_000020.bin")), results.BestCheckpoint!.Data.ToArray());

        // Restoring the finished experiment once more runs nothing and still has every checkpoint.
        var starts = new ConcurrentBag<(string Trial, int From)>();
        var again = await Tuner.Restore(dir, Train(starts), Space2(), Options(dir)).FitAsync().WaitAsync(Timeout);
        Assert.Empty(starts);
        Assert.Equal(best.Id, again.GetBestTrial().Id);
        Assert.Equal(20, again.BestCheckpoint!.ToObject<int>());
        Assert.All(again.Trials, t => Assert.Equal(20, t.LatestCheckpoint!.ToObject<int>()));
    }

    [Fact]
    public async Task A_restored_trial_that_stopped_between_checkpoints_keeps_its_latest_checkpoint()
    {
        // Stopped at iteration 5 with checkpoints every other step: its latest checkpoint is iteration 4.
        var dir = Path.Combine(Root, "named");
        var options = new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            Searcher = new RandomSearcher(11),
            Stopper = new MaxIterationStopper(5),
            ExperimentDirectory = dir,
        };
        await new Tuner(Train([]), Space2(), options).FitAsync().WaitAsync(Timeout);
        var trialDir = Path.Combine(dir, "trials", "00001");
        Assert.Equal(["checkpoint_000002.bin", "checkpoint_000004.bin"], Directory.GetFiles(trialDir, "checkpoint_*.bin").Select(Path.GetFileName).Order());

        var restored = await Tuner.Restore(dir, Train([]), Space2(), options).FitAsync().WaitAsync(Timeout);
        var trial = Assert.Single(restored.Trials);
        Assert.Equal(TrialStatus.Terminated, trial.Status);
        Assert.Equal(5, trial.Iteration);
        Assert.Equal(4, trial.LatestCheckpoint!.Iteration);
        Assert.Equal(4, trial.LatestCheckpoint.ToObject<int>());
    }

    [Fact]
    public async Task A_killed_experiment_whose_state_still_says_running_resumes_from_the_checkpoints_on_disk()
    {
        var dir = Path.Combine(Root, "killed");
        using var cancel = new CancellationTokenSource();
        var interrupted = new Tuner(Train([], total => { if (total == 30) cancel.Cancel(); }), Space2(), Options(dir));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interrupted.FitAsync(cancel.Token).WaitAsync(Timeout));

        // Make the directory look like a kill -9: statuses left at Running, a result line cut off mid-write.
        var statePath = Path.Combine(dir, "experiment_state.json");
        var state = JsonNode.Parse(File.ReadAllText(statePath))!;
        foreach (var t in state["trials"]!.AsArray().Where(t => t!["status"]!.GetValue<string>() == "Paused"))
        {
            t!["status"] = "Running";
            File.AppendAllText(Path.Combine(dir, "trials", t["id"]!.GetValue<string>(), "result.jsonl"), "{\"trial_id\":\"0");
        }
        File.WriteAllText(statePath, state.ToJsonString());

        var starts = new ConcurrentBag<(string Trial, int From)>();
        var results = await Tuner.Restore(dir, Train(starts), Space2(), Options(dir)).FitAsync().WaitAsync(Timeout);
        Assert.Equal(8, results.Trials.Count);
        Assert.Contains(starts, s => s.From > 0);
        Assert.All(results.Trials, t => Assert.Equal(Enumerable.Range(1, 20), t.Results.Select(r => r.Iteration)));
    }

    [Fact]
    public void Restoring_from_a_directory_without_an_experiment_fails_clearly()
    {
        Assert.Throws<FileNotFoundException>(() => Tuner.Restore(Path.Combine(Root, "nothing"), Train([]), Space2(), Options(Path.Combine(Root, "nothing"))));
    }

    [Fact]
    public async Task Restoring_with_another_metric_fails_before_any_trial_runs()
    {
        var dir = Path.Combine(Root, "metric");
        await new Tuner(Train([]), Space2(), Options(dir)).FitAsync().WaitAsync(Timeout);
        var options = new TuneOptions { Metric = "loss", ExperimentDirectory = dir };
        var e = Assert.Throws<ArgumentException>(() => Tuner.Restore(dir, Train([]), Space2(), options));
        Assert.Contains("'acc'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configs_keep_their_types_through_the_saved_state()
    {
        var config = new TrialConfig([new("d", 3.0), new("i", 3), new("s", "x"), new("b", true), new("n", null), new("a/b", 0.5)]);
        var back = ExperimentState.LoadConfig(JsonNode.Parse(ExperimentState.SaveConfig(config).ToJsonString())!.AsArray());
        Assert.IsType<double>(back["d"]);
        Assert.IsType<int>(back["i"]);
        Assert.Equal(config.ToString(), back.ToString());
    }
}
