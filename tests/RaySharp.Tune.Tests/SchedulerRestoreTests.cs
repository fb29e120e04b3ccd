using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace RaySharp.Tune.Tests;

/// <summary>Scheduler state saved with the experiment and handed back by <c>Tuner.Restore</c>.</summary>
public sealed class SchedulerRestoreTests : TempDirectoryTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>acc = q·(1 − e^(−t/10)), checkpointed every iteration; records where each run starts; counts reports as they are sent.</summary>
    private static TrainableFunction Curve(int maxT, ConcurrentBag<(string Trial, int From)> starts, Action<int>? beforeReport = null)
    {
        var total = 0;
        return async (trial, ct) =>
        {
            var from = trial.Checkpoint?.ToObject<int>() ?? 0;
            starts.Add((trial.TrialId, from));
            var q = trial.Config.Get<double>("q");
            for (var t = from + 1; t <= maxT; t++)
            {
                beforeReport?.Invoke(Interlocked.Increment(ref total));
                await trial.ReportAsync("acc", q * (1 - Math.Exp(-t / 10.0)), Checkpoint.FromObject(t));
            }
        };
    }

    private static TuneOptions HyperBandOptions(string dir) => new()
    {
        Metric = "acc",
        Mode = TuneMode.Max,
        NumSamples = 12, // the 9 of the first bracket and 3 of the second's 5
        MaxConcurrentTrials = 1,
        Searcher = new RandomSearcher(5),
        Scheduler = new HyperBandScheduler(new() { MaxT = 9, ReductionFactor = 3 }),
        ExperimentDirectory = dir,
    };

    private static string[] Outcome(ResultGrid results) =>
        results.Trials.Select(t => $"{t.Id} {t.Config} → {t.Iteration} {t.Status}").ToArray();

    [Fact]
    public async Task An_interrupted_hyperband_experiment_resumes_its_brackets_and_ends_as_an_uninterrupted_one()
    {
        var reference = await new Tuner(Curve(9, []), new SearchSpace { ["q"] = Space.Uniform(0, 1) }, HyperBandOptions(Path.Combine(Root, "reference")))
            .FitAsync().WaitAsync(Timeout);

        // Interrupt once 12 reports are in: the first bracket's 9 trials reached iteration 1, its best 3 are being promoted.
        var dir = Path.Combine(Root, "interrupted");
        using var cancel = new CancellationTokenSource();
        var interrupted = new Tuner(Curve(9, [], total => { if (total == 13) cancel.Cancel(); }), new SearchSpace { ["q"] = Space.Uniform(0, 1) }, HyperBandOptions(dir));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interrupted.FitAsync(cancel.Token).WaitAsync(Timeout));
        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "experiment_state.json")))!;
        Assert.Equal(typeof(HyperBandScheduler).FullName, saved["scheduler"]!["type"]!.GetValue<string>());
        var finished = saved["trials"]!.AsArray().Where(t => t!["status"]!.GetValue<string>() == "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        Assert.True(saved["trials"]!.AsArray().Any(t => t!["status"]!.GetValue<string>() == "Paused"), saved.ToJsonString());

        var starts = new ConcurrentBag<(string Trial, int From)>();
        var restored = await Tuner.Restore(dir, Curve(9, starts), new SearchSpace { ["q"] = Space.Uniform(0, 1) }, HyperBandOptions(dir)).FitAsync().WaitAsync(Timeout);

        Assert.Equal(Outcome(reference), Outcome(restored)); // same trials, each stopped at the same iteration
        Assert.DoesNotContain(starts, s => finished.Contains(s.Trial));
        Assert.Contains(starts, s => s.From > 0);
        Assert.All(restored.Trials, t => Assert.Equal(Enumerable.Range(1, t.Iteration), t.Results.Select(r => r.Iteration)));
    }

    [Fact]
    public async Task An_interrupted_pbt_experiment_resumes_an_exploited_trial_from_its_donors_checkpoint_and_keeps_its_history()
    {
        var space = new SearchSpace { ["lr"] = Space.Uniform(0.1, 10) };
        TuneOptions Options(ITrialScheduler scheduler) => new()
        {
            Metric = "score",
            Mode = TuneMode.Max,
            NumSamples = 4,
            MaxConcurrentTrials = 4,
            Searcher = new RandomSearcher(3),
            Scheduler = scheduler,
            ExperimentDirectory = Path.Combine(Root, "pbt"),
        };
        PbtScheduler Pbt() => new(new PbtOptions
        {
            Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0.1, 10) },
            PerturbationInterval = 3,
            Seed = 1,
        });

        // The first run is interrupted by the first exploit, before the exploited trial runs again.
        var firstPbt = Pbt();
        using var cancel = new CancellationTokenSource();
        var firstStarts = new ConcurrentBag<(string Trial, string Origin, int Step)>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var interrupted = new Tuner(PbtTrain(firstStarts, all), space, Options(new InterruptOnPause(firstPbt, cancel)));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interrupted.FitAsync(cancel.Token).WaitAsync(Timeout));
        var exploit = Assert.Single(firstPbt.Exploits);
        Assert.True(File.Exists(Path.Combine(Root, "pbt", "trials", exploit.Trial, "restore.bin")));

        var secondPbt = Pbt();
        var secondStarts = new ConcurrentBag<(string Trial, string Origin, int Step)>();
        var released = new TaskCompletionSource();
        released.SetResult();
        var results = await Tuner.Restore(Path.Combine(Root, "pbt"), PbtTrain(secondStarts, released), space, Options(new InterruptOnPause(secondPbt, null)))
            .FitAsync().WaitAsync(Timeout);

        Assert.Equal(["00001", "00002", "00003", "00004"], results.Trials.Select(t => t.Id));
        Assert.All(results.Trials, t => Assert.Equal(12, t.Iteration));
        Assert.Equal(exploit, secondPbt.Exploits[0]); // the exploit history was restored
        var resumed = secondStarts.Where(s => s.Trial == exploit.Trial).MinBy(s => s.Step);
        Assert.Equal(exploit.Donor, resumed.Origin); // from the donor's checkpoint, not its own
        Assert.All(secondStarts, s => Assert.True(s.Step > 0, $"trial {s.Trial} started over"));
    }

    /// <summary>Score = lr; every trial reports once before any reports again, so the whole population is ranked at iteration 3.</summary>
    private static TrainableFunction PbtTrain(ConcurrentBag<(string Trial, string Origin, int Step)> starts, TaskCompletionSource allReported)
    {
        var firstReports = 0;
        return async (trial, ct) =>
        {
            var (origin, step) = trial.Checkpoint?.ToObject<TunerTests.PbtState>() ?? new TunerTests.PbtState(trial.TrialId, 0);
            starts.Add((trial.TrialId, origin, step));
            var lr = trial.Config.Get<double>("lr");
            for (var i = step; i < 12; i++)
            {
                await trial.ReportAsync("score", lr, Checkpoint.FromObject(new TunerTests.PbtState(origin, i + 1)));
                if (i == 0 && Interlocked.Increment(ref firstReports) == 4)
                    allReported.TrySetResult();
                await allReported.Task.WaitAsync(Timeout, ct);
            }
        };
    }

    [Fact]
    public void Asha_state_round_trips_its_rungs_and_promotions()
    {
        static AshaScheduler Create()
        {
            var asha = new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8, Variant = AshaVariant.Promotion });
            asha.Initialize("loss", TuneMode.Max);
            return asha;
        }
        var old = Create();
        var runner = new FakeRunner();
        var a = runner.Add(old, "a");
        var b = runner.Add(old, "b");
        runner.Report(old, a, 5);
        runner.Report(old, b, 3);
        Assert.Same(a, old.ChooseTrialToRun(runner)); // a promoted from rung 1

        var fresh = Create();
        fresh.RestoreState(runner, JsonNode.Parse(old.SaveState().ToJsonString())!.AsObject());
        Assert.Equal(old.SaveState().ToJsonString(), fresh.SaveState().ToJsonString());
        Assert.Null(fresh.ChooseTrialToRun(runner)); // a is not promoted twice, b is below the quota
        var c = runner.Add(fresh, "c");
        Assert.Equal(TrialDecision.Pause, runner.Report(fresh, c, 4)); // rung 1 = {5, 3, 4}: quota 1, taken by a

        var other = new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 3, MaxT = 8 });
        other.Initialize("loss", TuneMode.Max);
        var e = Assert.Throws<InvalidDataException>(() => other.RestoreState(runner, old.SaveState()));
        Assert.Contains("options", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restoring_with_another_kind_of_scheduler_fails_before_any_trial_runs()
    {
        var dir = Path.Combine(Root, "kind");
        await new Tuner(Curve(3, []), new SearchSpace { ["q"] = Space.Uniform(0, 1) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 2,
            ExperimentDirectory = dir,
            Scheduler = new AshaScheduler(new() { MaxT = 3 }),
        }).FitAsync().WaitAsync(Timeout);
        var e = Assert.Throws<ArgumentException>(() => Tuner.Restore(dir, Curve(3, []), new SearchSpace { ["q"] = Space.Uniform(0, 1) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 2,
            ExperimentDirectory = dir,
            Scheduler = new HyperBandScheduler(),
        }));
        Assert.Contains(nameof(AshaScheduler), e.Message, StringComparison.Ordinal);
    }

    /// <summary>PBT that cancels the experiment (from inside the loop) at its first pause; state passes through.</summary>
    private sealed class InterruptOnPause(PbtScheduler inner, CancellationTokenSource? cancel) : ITrialScheduler
    {
        public void Initialize(string metric, TuneMode mode) => inner.Initialize(metric, mode);

        public void OnTrialAdd(ITrialRunner runner, Trial trial) => inner.OnTrialAdd(runner, trial);

        public TrialDecision OnTrialResult(ITrialRunner runner, Trial trial, TrialResult result)
        {
            var decision = inner.OnTrialResult(runner, trial, result);
            if (decision == TrialDecision.Pause)
                cancel?.Cancel();
            return decision;
        }

        public void OnTrialComplete(ITrialRunner runner, Trial trial) => inner.OnTrialComplete(runner, trial);

        public Trial? ChooseTrialToRun(ITrialRunner runner) => inner.ChooseTrialToRun(runner);

        public JsonObject? SaveState() => inner.SaveState();

        public void RestoreState(ITrialRunner runner, JsonObject state) => inner.RestoreState(runner, state);
    }
}
