namespace RaySharp.Tune.Tests;

public sealed class ClassTrainableTests : TempDirectoryTest
{
    private sealed class Tracker
    {
        public int Setups;
        public int Resets;
        public int Cleanups;
        public int Loads;
    }

    /// <summary>Counts to <c>steps</c> (from the config) and reports loss = q / t.</summary>
    private sealed class Counter(Tracker tracker, bool reusable) : Trainable
    {
        private double _q;
        private int _steps;
        private int _t;

        public override void Setup(TrialConfig config)
        {
            Interlocked.Increment(ref tracker.Setups);
            Configure(config);
        }

        public override IReadOnlyDictionary<string, double> Step()
        {
            _t++;
            return new Dictionary<string, double> { ["loss"] = _q / _t, ["done"] = _t >= _steps ? 1 : 0 };
        }

        public override Checkpoint? SaveCheckpoint() => Checkpoint.FromObject(_t);

        public override void LoadCheckpoint(Checkpoint checkpoint)
        {
            Interlocked.Increment(ref tracker.Loads);
            _t = checkpoint.ToObject<int>();
        }

        public override bool ResetConfig(TrialConfig config)
        {
            if (!reusable)
                return false;
            Interlocked.Increment(ref tracker.Resets);
            Configure(config);
            return true;
        }

        public override void Cleanup() => Interlocked.Increment(ref tracker.Cleanups);

        private void Configure(TrialConfig config)
        {
            _q = config.Get<double>("q");
            _steps = config.Get<int>("steps");
            _t = 0;
        }
    }

    private static SearchSpace Space5() => new() { ["q"] = Space.Uniform(1, 2), ["steps"] = 5 };

    [Fact]
    public async Task A_class_trainable_steps_checkpoints_and_ends_when_it_reports_done()
    {
        var tracker = new Tracker();
        var results = await new Tuner(() => new Counter(tracker, reusable: false), Space5(), new TuneOptions
        {
            Metric = "loss",
            NumSamples = 2,
            MaxConcurrentTrials = 2,
            ExperimentDirectory = Path.Combine(Root, "done"),
        }).FitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(results.Trials, t => Assert.Equal([1, 2, 3, 4, 5], t.Results.Select(r => r.Iteration)));
        Assert.All(results.Trials, t => Assert.Equal(5, t.LatestCheckpoint!.ToObject<int>()));
        Assert.Equal(2, tracker.Setups);
        Assert.Equal(2, tracker.Cleanups);
    }

    [Fact]
    public async Task Instances_are_reused_across_trials_when_reset_config_accepts_the_new_config()
    {
        var tracker = new Tracker();
        await new Tuner(() => new Counter(tracker, reusable: true), Space5(), new TuneOptions
        {
            Metric = "loss",
            NumSamples = 6,
            MaxConcurrentTrials = 1,
            ExperimentDirectory = Path.Combine(Root, "reuse"),
        }).FitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1, tracker.Setups);
        Assert.Equal(5, tracker.Resets);
        Assert.Equal(1, tracker.Cleanups); // the last idle instance, at the end of the experiment
    }

    [Fact]
    public async Task Instances_that_cannot_reset_are_cleaned_up_and_replaced()
    {
        var tracker = new Tracker();
        await new Tuner(() => new Counter(tracker, reusable: false), Space5(), new TuneOptions
        {
            Metric = "loss",
            NumSamples = 4,
            MaxConcurrentTrials = 1,
            ExperimentDirectory = Path.Combine(Root, "noreuse"),
        }).FitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(4, tracker.Setups);
        Assert.Equal(0, tracker.Resets);
        Assert.Equal(4, tracker.Cleanups);
    }

    [Fact]
    public async Task Paused_class_trainables_resume_from_their_checkpoints()
    {
        var tracker = new Tracker();
        var space = new SearchSpace { ["q"] = Space.Uniform(1, 2), ["steps"] = 100 };
        var results = await new Tuner(() => new Counter(tracker, reusable: true), space, new TuneOptions
        {
            Metric = "loss",
            NumSamples = 9,
            MaxConcurrentTrials = 2,
            Scheduler = new HyperBandScheduler(new() { MaxT = 9, ReductionFactor = 3 }),
            ExperimentDirectory = Path.Combine(Root, "hyperband"),
        }).FitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.InRange(tracker.Loads, 2, 4);
        Assert.All(results.Trials, t => Assert.Equal(Enumerable.Range(1, t.Iteration), t.Results.Select(r => r.Iteration)));
        // loss = q / t: a resumed trial continued counting t from its checkpoint.
        var best = results.Trials.Single(t => t.Iteration == 9);
        Assert.Equal(best.Config.Get<double>("q") / 9, best.LastResult!["loss"], 12);
    }
}
