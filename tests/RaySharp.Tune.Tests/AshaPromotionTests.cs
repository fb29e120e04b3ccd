using System.Collections.Concurrent;

namespace RaySharp.Tune.Tests;

public sealed class AshaPromotionTests : TempDirectoryTest
{
    private static AshaScheduler Promotion(TuneMode mode = TuneMode.Max)
    {
        var asha = new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8, Variant = AshaVariant.Promotion });
        asha.Initialize("loss", mode);
        return asha;
    }

    [Fact]
    public void A_trial_waits_at_its_rung_until_it_is_in_the_top_fraction_and_higher_rungs_promote_first()
    {
        // rf = 2, rungs at 1, 2, 4: a rung of n trials promotes its best ⌊n/2⌋.
        var asha = Promotion();
        var runner = new FakeRunner();
        var a = runner.Add(asha, "a");
        var b = runner.Add(asha, "b");
        Assert.Equal(TrialDecision.Pause, runner.Report(asha, a, 5));    // rung 1 = {a}: quota 0
        Assert.Equal(TrialDecision.Pause, runner.Report(asha, b, 3));    // rung 1 = {a, b}: quota 1 is a, which waits
        Assert.Same(a, asha.ChooseTrialToRun(runner));                   // a is promoted (not b)
        a.Status = TrialStatus.Running;
        Assert.Null(asha.ChooseTrialToRun(runner));                      // b is not in the top half: start a new trial

        Assert.Equal(TrialDecision.Pause, runner.Report(asha, a, 6));    // rung 2 = {a}: quota 0
        var c = runner.Add(asha, "c");
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, c, 7)); // rung 1 = {a, b, c}: quota 1 is c, the reporter
        Assert.Equal(TrialDecision.Pause, runner.Report(asha, c, 4));    // rung 2 = {a, c}: quota 1 is a
        Assert.Same(a, asha.ChooseTrialToRun(runner));
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, a, 6.5)); // iteration 3: between rungs
        Assert.Equal(TrialDecision.Pause, runner.Report(asha, a, 7));    // rung 4 = {a}: quota 0 while trials may still come
        Assert.Null(asha.ChooseTrialToRun(runner));
        Assert.Equal(TrialStatus.Paused, b.Status);
    }

    [Fact]
    public void Once_the_search_has_finished_and_nothing_runs_each_rung_promotes_its_best_ceiling_share()
    {
        var asha = Promotion(TuneMode.Min);
        var runner = new FakeRunner();
        var a = runner.Add(asha, "a");
        var b = runner.Add(asha, "b");
        var c = runner.Add(asha, "c");
        Assert.Equal(TrialDecision.Pause, runner.Report(asha, a, 3));
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, b, 1));  // min mode: b (1) beats a (3) and is promoted at once
        runner.SearchFinished = true;
        Assert.Equal(TrialDecision.Pause, runner.Report(asha, c, 2));     // b still runs: quota ⌊3/2⌋ = 1, taken by b
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, b, 1));  // rung 2 = {b}, nothing else runs: ⌈1/2⌉ = 1
        for (var i = 3; i <= 8; i++)
            runner.Report(asha, b, 1);
        Assert.Equal(TrialStatus.Terminated, b.Status);                   // iteration 8 = MaxT
        Assert.Same(c, asha.ChooseTrialToRun(runner));                    // rung 1: ⌈3/2⌉ = 2 → b and c
        c.Status = TrialStatus.Running;
        Assert.Null(asha.ChooseTrialToRun(runner));                       // a stays behind
    }

    [Fact]
    public async Task Through_the_tuner_paused_trials_resume_from_their_rung_checkpoint_and_the_best_reaches_max_t()
    {
        var restores = new ConcurrentBag<(string Trial, int From)>();
        TrainableFunction curve = async (trial, ct) =>
        {
            var start = trial.Checkpoint?.ToObject<int>() ?? 0;
            Assert.Equal(start, trial.Iteration);
            if (start > 0)
                restores.Add((trial.TrialId, start));
            var q = trial.Config.Get<double>("q");
            for (var i = start; i < 27; i++)
                await trial.ReportAsync("acc", q * (1 - Math.Exp(-(i + 1) / 10.0)), Checkpoint.FromObject(i + 1));
        };
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var results = await new Tuner(curve, new SearchSpace { ["q"] = Space.Uniform(0, 1) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            NumSamples = 20,
            MaxConcurrentTrials = 2,
            Searcher = new RandomSearcher(7),
            Scheduler = new AshaScheduler(new() { MaxT = 27, GracePeriod = 1, ReductionFactor = 3, Variant = AshaVariant.Promotion }),
            ExperimentDirectory = Path.Combine(Root, "asha"),
        }).FitAsync(cancel.Token);

        Assert.True(results.TotalIterations < 20 * 27 / 2, $"ASHA ran {results.TotalIterations} of {20 * 27} iterations");
        var best = results.Trials.MaxBy(t => t.Config.Get<double>("q"))!;
        Assert.Equal(27, best.Iteration);
        Assert.All(results.Trials, t => Assert.Equal(Enumerable.Range(1, t.Iteration), t.Results.Select(r => r.Iteration)));
        Assert.All(restores, r => Assert.Contains(r.From, new[] { 1, 3, 9 })); // promoted from a rung's checkpoint
        Assert.NotEmpty(restores);
        // Rung 1 holds all 20 trials and promotes ⌊20/3⌋ while the search runs, ⌈20/3⌉ once it has finished.
        Assert.InRange(results.Trials.Count(t => t.Iteration >= 3), 20 / 3, (20 + 2) / 3);
    }
}
