namespace RaySharp.Tune.Tests;

public sealed class SchedulerTests
{
    private static T Init<T>(T scheduler, TuneMode mode = TuneMode.Min)
        where T : ITrialScheduler
    {
        scheduler.Initialize("loss", mode);
        return scheduler;
    }

    [Fact]
    public void Fifo_continues_every_trial_and_runs_pending_before_paused()
    {
        var fifo = Init(new FifoScheduler());
        var runner = new FakeRunner();
        var a = runner.Add(fifo, "a");
        var b = runner.Add(fifo, "b");
        Assert.Equal(TrialDecision.Continue, runner.Report(fifo, a, 100));
        a.Status = TrialStatus.Paused;
        Assert.Same(b, fifo.ChooseTrialToRun(runner));
        b.Status = TrialStatus.Running;
        Assert.Same(a, fifo.ChooseTrialToRun(runner));
    }

    [Fact]
    public void Median_stopping_stops_a_trial_whose_best_is_worse_than_the_median_of_running_means()
    {
        var median = Init(new MedianStoppingScheduler(new() { GracePeriod = 2, MinSamplesRequired = 3 }));
        var runner = new FakeRunner();
        // Three finished trials with running means 2, 3 and 4 up to iteration 3 → median 3.
        foreach (var (id, values) in new[] { ("a", new[] { 3.0, 2, 1 }), ("b", new[] { 4.0, 3, 2 }), ("c", new[] { 5.0, 4, 3 }) })
        {
            var t = runner.Add(median, id);
            foreach (var v in values)
                Assert.Equal(TrialDecision.Continue, runner.Report(median, t, v));
            runner.Complete(median, t);
        }
        var bad = runner.Add(median, "bad");
        Assert.Equal(TrialDecision.Continue, runner.Report(median, bad, 9)); // inside the grace period
        Assert.Equal(TrialDecision.Continue, runner.Report(median, bad, 8));
        Assert.Equal(TrialDecision.Stop, runner.Report(median, bad, 3.5));   // best 3.5 worse than median 3

        var good = runner.Add(median, "good");
        runner.Report(median, good, 9);
        runner.Report(median, good, 8);
        Assert.Equal(TrialDecision.Continue, runner.Report(median, good, 2.5)); // best 2.5 beats 3
    }

    [Fact]
    public void Median_stopping_waits_for_enough_other_trials_and_can_pause_instead()
    {
        var median = Init(new MedianStoppingScheduler(new() { GracePeriod = 0, MinSamplesRequired = 2, HardStop = false }), TuneMode.Max);
        var runner = new FakeRunner();
        var a = runner.Add(median, "a");
        runner.Report(median, a, 10);
        var b = runner.Add(median, "b");
        Assert.Equal(TrialDecision.Continue, runner.Report(median, b, 1)); // only one other trial
        var c = runner.Add(median, "c");
        runner.Report(median, c, 8);
        var d = runner.Add(median, "d");
        Assert.Equal(TrialDecision.Pause, runner.Report(median, d, 2)); // median of a, b, c at 1 = 8
    }

    [Fact]
    public void Asha_places_rungs_at_grace_times_powers_of_the_reduction_factor()
    {
        Assert.Equal([1, 4, 16, 64], new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 4, MaxT = 100 }).Milestones[0]);
        Assert.Equal([2, 6, 18], new AshaScheduler(new() { GracePeriod = 2, ReductionFactor = 3, MaxT = 27 }).Milestones[0]);
        var brackets = new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 3, MaxT = 27, Brackets = 2 }).Milestones;
        Assert.Equal([3, 9], brackets[1]);
    }

    [Fact]
    public void Asha_stops_a_trial_below_the_rung_quantile_and_promotes_the_rest_without_waiting()
    {
        // rf = 2: at each rung, a trial continues only if it is at or above the median recorded so far.
        var asha = Init(new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8 }), TuneMode.Max);
        var runner = new FakeRunner();
        var a = runner.Add(asha, "a");
        var b = runner.Add(asha, "b");
        var c = runner.Add(asha, "c");
        var d = runner.Add(asha, "d");
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, a, 5));  // first at rung 1: nothing to compare
        Assert.Equal(TrialDecision.Stop, runner.Report(asha, b, 3));      // 3 < median{5}
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, c, 7));  // 7 ≥ median{5,3}=4
        Assert.Equal(TrialDecision.Stop, runner.Report(asha, d, 4.5));    // 4.5 < median{5,3,7}=5
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, a, 6));  // iteration 2: rung 2
        Assert.Equal(TrialDecision.Stop, runner.Report(asha, c, 5));      // 5 < median{6}
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, a, 6.5)); // iteration 3: no rung
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, a, 7));   // iteration 4: rung 4, alone
        for (var i = 5; i < 8; i++)
            Assert.Equal(TrialDecision.Continue, runner.Report(asha, a, 8));
        Assert.Equal(TrialDecision.Stop, runner.Report(asha, a, 9));       // iteration 8 = MaxT
    }

    [Fact]
    public void Asha_in_min_mode_keeps_the_smaller_values()
    {
        var asha = Init(new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8 }));
        var runner = new FakeRunner();
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, runner.Add(asha, "a"), 5));
        Assert.Equal(TrialDecision.Continue, runner.Report(asha, runner.Add(asha, "b"), 3));
        Assert.Equal(TrialDecision.Stop, runner.Report(asha, runner.Add(asha, "c"), 6));
    }

    [Fact]
    public void Asha_restored_from_its_saved_state_remembers_its_rungs()
    {
        var old = Init(new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8 }), TuneMode.Max);
        var runner = new FakeRunner();
        var finished = runner.Add(old, "a");
        runner.Report(old, finished, 5);
        runner.Report(old, finished, 6);
        runner.Complete(old, finished);

        var fresh = Init(new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8 }), TuneMode.Max);
        fresh.RestoreState(runner, old.SaveState());
        // Rung 1 holds a's 5 again, so a newcomer with 3 is cut; without the restore it would continue.
        Assert.Equal(TrialDecision.Stop, runner.Report(fresh, runner.Add(fresh, "b"), 3));
        var forgetful = Init(new AshaScheduler(new() { GracePeriod = 1, ReductionFactor = 2, MaxT = 8 }), TuneMode.Max);
        Assert.Equal(TrialDecision.Continue, runner.Report(forgetful, runner.Add(forgetful, "c"), 3));
    }

    [Fact]
    public void HyperBand_sizes_its_brackets_as_in_the_paper()
    {
        var sizes = new HyperBandScheduler(new() { MaxT = 81, ReductionFactor = 3 }).BracketSizes;
        Assert.Equal([(81, 1), (34, 3), (15, 9), (8, 27), (5, 81)], sizes);
    }

    [Fact]
    public void HyperBand_pauses_trials_at_the_milestone_then_promotes_the_best_third_and_stops_the_rest()
    {
        var hb = Init(new HyperBandScheduler(new() { MaxT = 9, ReductionFactor = 3 }));
        Assert.Equal([(9, 1), (5, 3), (3, 9)], hb.BracketSizes);
        var runner = new FakeRunner();
        var trials = Enumerable.Range(0, 9).Select(i => runner.Add(hb, "t" + i)).ToArray();
        var losses = new[] { 5.0, 1, 7, 3, 9, 2, 8, 6, 4 }; // best three: t1 (1), t5 (2), t3 (3)
        for (var i = 0; i < 8; i++)
        {
            Assert.Same(trials[i], hb.ChooseTrialToRun(runner));
            Assert.Equal(TrialDecision.Pause, runner.Report(hb, trials[i], losses[i]));
        }
        Assert.Same(trials[8], hb.ChooseTrialToRun(runner));
        Assert.Equal(TrialDecision.Stop, runner.Report(hb, trials[8], losses[8])); // last one in, not in the top 3
        Assert.Equal(["t0", "t2", "t4", "t6", "t7"], runner.Stopped.Order().ToArray());

        // The promoted trials (paused at iteration 1, next milestone 3) are chosen to run on.
        var promoted = new List<string>();
        while (hb.ChooseTrialToRun(runner) is { } next)
        {
            promoted.Add(next.Id);
            next.Status = TrialStatus.Running;
        }
        Assert.Equal(["t1", "t3", "t5"], promoted.Order().ToArray());

        // Round two: milestone 3, one of three is kept and runs to MaxT = 9.
        Assert.Equal(TrialDecision.Continue, runner.Report(hb, trials[1], 1));
        Assert.Equal(TrialDecision.Pause, runner.Report(hb, trials[1], 0.5));
        runner.Report(hb, trials[3], 3);
        Assert.Equal(TrialDecision.Pause, runner.Report(hb, trials[3], 2.5));
        runner.Report(hb, trials[5], 2);
        Assert.Equal(TrialDecision.Stop, runner.Report(hb, trials[5], 1.5));
        Assert.Contains("t3", runner.Stopped);
        Assert.Same(trials[1], hb.ChooseTrialToRun(runner));
        for (var i = 4; i < 9; i++)
            Assert.Equal(TrialDecision.Continue, runner.Report(hb, trials[1], 0.4));
        Assert.Equal(TrialDecision.Stop, runner.Report(hb, trials[1], 0.3)); // iteration 9 = MaxT
    }

    [Fact]
    public void HyperBand_decides_an_incomplete_bracket_once_the_search_has_finished()
    {
        var hb = Init(new HyperBandScheduler(new() { MaxT = 9, ReductionFactor = 3 }));
        var runner = new FakeRunner();
        var a = runner.Add(hb, "a");
        var b = runner.Add(hb, "b");
        Assert.Equal(TrialDecision.Pause, runner.Report(hb, a, 2));
        Assert.Equal(TrialDecision.Pause, runner.Report(hb, b, 1));
        Assert.Null(hb.ChooseTrialToRun(runner)); // bracket wants 9 trials; more may come
        runner.SearchFinished = true;
        Assert.Same(b, hb.ChooseTrialToRun(runner)); // ⌈2/3⌉ = 1 promoted
        Assert.Equal(["a"], runner.Stopped);
    }

    [Fact]
    public void Pbt_bottom_trial_exploits_a_top_trials_checkpoint_and_explores_its_config()
    {
        var pbt = Init(new PbtScheduler(new PbtOptions
        {
            Mutations = new Dictionary<string, Domain> { ["lr"] = Space.LogUniform(1e-4, 1) },
            PerturbationInterval = 2,
            QuantileFraction = 0.25,
            ResampleProbability = 0,
        }), TuneMode.Max);
        var runner = new FakeRunner();
        var trials = Enumerable.Range(0, 4)
            .Select(i => runner.Add(pbt, "t" + i, new TrialConfig([new("lr", 0.01 * (i + 1)), new("fixed", "x")])))
            .ToArray();
        var scores = new[] { 1.0, 2, 3, 4 };
        for (var i = 0; i < 4; i++)
            Assert.Equal(TrialDecision.Continue, runner.Report(pbt, trials[i], scores[i], checkpoint: Checkpoint.FromObject(i)));
        // Iteration 2: t3 (best) continues; t0 (worst) is in the bottom quarter and exploits t3.
        Assert.Equal(TrialDecision.Continue, runner.Report(pbt, trials[3], 4, checkpoint: Checkpoint.FromObject(3)));
        Assert.Equal(TrialDecision.Pause, runner.Report(pbt, trials[0], 1, checkpoint: Checkpoint.FromObject(0)));
        var (id, config, checkpoint) = Assert.Single(runner.Resets);
        Assert.Equal("t0", id);
        Assert.Equal(3, checkpoint!.ToObject<int>());
        Assert.Equal(2, checkpoint.Iteration);
        var lr = config.Get<double>("lr");
        Assert.True(Math.Abs(lr - 0.032) < 1e-12 || Math.Abs(lr - 0.048) < 1e-12, $"explored lr {lr} is not 0.04 × 0.8 or × 1.2");
        Assert.Equal("x", config.Get<string>("fixed"));
        Assert.Equal([("t0", "t3", 2)], pbt.Exploits);
        // t0 now ranks with its donor's score; t2 is above the bottom quarter (t1) and does not exploit.
        Assert.Equal(TrialDecision.Continue, runner.Report(pbt, trials[2], 3, checkpoint: Checkpoint.FromObject(2)));
    }

    [Fact]
    public void Pbt_explore_perturbs_numbers_by_point_eight_or_one_point_two_and_moves_choices_to_a_neighbour()
    {
        var pbt = new PbtScheduler(new PbtOptions
        {
            Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0, 10), ["batch"] = Space.Choice(16, 32, 64) },
            ResampleProbability = 0,
        });
        var config = new TrialConfig([new("lr", 1.0), new("batch", 32)]);
        for (var i = 0; i < 50; i++)
        {
            var next = pbt.Explore(config);
            Assert.True(Math.Abs(next.Get<double>("lr") - 0.8) < 1e-12 || Math.Abs(next.Get<double>("lr") - 1.2) < 1e-12);
            Assert.Contains(next.Get<int>("batch"), new[] { 16, 64 });
        }
    }

    [Fact]
    public void Pbt_rejects_mutations_it_cannot_apply()
    {
        Assert.Throws<ArgumentException>(() => new PbtScheduler(new PbtOptions { Mutations = new Dictionary<string, Domain>() }));
        Assert.Throws<ArgumentException>(() => new PbtScheduler(new PbtOptions { Mutations = new Dictionary<string, Domain> { ["g"] = Space.Grid(1, 2) } }));
        var pbt = Init(new PbtScheduler(new PbtOptions { Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0, 1) } }));
        var e = Assert.Throws<ArgumentException>(() => new FakeRunner().Add(pbt, "t", new TrialConfig([new("x", 1.0)])));
        Assert.Contains("'lr'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schedulers_reject_a_mode_other_than_min_or_max_and_an_empty_metric()
    {
        ITrialScheduler[] all =
        [
            new MedianStoppingScheduler(), new AshaScheduler(), new HyperBandScheduler(),
            new PbtScheduler(new PbtOptions { Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0, 1) } }),
        ];
        foreach (var s in all)
        {
            Assert.Throws<ArgumentException>(() => s.Initialize("loss", (TuneMode)7));
            Assert.Throws<ArgumentException>(() => s.Initialize(" ", TuneMode.Min));
        }
        Assert.Equal(TuneMode.Max, TuneModes.Parse("MAX"));
        var e = Assert.Throws<ArgumentException>(() => TuneModes.Parse("maximise"));
        Assert.Contains("\"min\" or \"max\"", e.Message, StringComparison.Ordinal);
    }
}
