namespace RaySharp.Tune.Tests;

public sealed class StopperTests
{
    private static (Trial Trial, TrialResult Result) Report(Trial trial, double loss)
    {
        var result = new TrialResult(trial.Id, trial.Iteration + 1, new Dictionary<string, double> { ["loss"] = loss });
        trial.AddResult(result);
        return (trial, result);
    }

    private static Trial NewTrial() => new("t", new TrialConfig([new("x", 1.0)]));

    [Fact]
    public void Max_iterations_stops_a_trial_at_its_limit()
    {
        var stopper = new MaxIterationStopper(3);
        var trial = NewTrial();
        Assert.False(stopper.ShouldStopTrial(Report(trial, 1).Trial, trial.LastResult!));
        Assert.False(stopper.ShouldStopTrial(trial, Report(trial, 1).Result));
        Assert.True(stopper.ShouldStopTrial(trial, Report(trial, 1).Result));
        Assert.False(stopper.ShouldStopExperiment());
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxIterationStopper(0));
    }

    [Fact]
    public void Plateau_stops_once_the_last_values_vary_less_than_the_tolerance()
    {
        var stopper = new PlateauStopper("loss", tolerance: 0.01, window: 3, gracePeriod: 3);
        var trial = NewTrial();
        var decisions = new[] { 5.0, 4.0, 3.0, 2.0, 1.95, 1.949, 1.948 }.Select(v => stopper.ShouldStopTrial(trial, Report(trial, v).Result)).ToArray();
        Assert.Equal([false, false, false, false, false, false, true], decisions); // sd of {2, 1.95, 1.949} is 0.024
    }

    [Fact]
    public void Timeout_stops_the_experiment_when_its_budget_has_passed()
    {
        var time = new ManualTime();
        var stopper = new TimeoutStopper(TimeSpan.FromMinutes(5), time);
        Assert.False(stopper.ShouldStopExperiment());
        time.Advance(TimeSpan.FromMinutes(4));
        Assert.False(stopper.ShouldStopExperiment());
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(stopper.ShouldStopExperiment());
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimeoutStopper(TimeSpan.Zero));
    }

    [Fact]
    public void Threshold_stops_the_trial_and_optionally_the_experiment()
    {
        var stopper = new MetricThresholdStopper("loss", 0.5, TuneMode.Min, stopExperiment: true);
        var trial = NewTrial();
        Assert.False(stopper.ShouldStopTrial(trial, Report(trial, 0.7).Result));
        Assert.False(stopper.ShouldStopExperiment());
        Assert.True(stopper.ShouldStopTrial(trial, Report(trial, 0.5).Result));
        Assert.True(stopper.ShouldStopExperiment());
    }

    [Fact]
    public void Custom_and_combined_stoppers_stop_when_any_rule_does()
    {
        var calls = 0;
        var custom = new FunctionStopper((_, r) => r["loss"] < 0, () => ++calls > 2);
        var combined = new CombinedStopper(new MaxIterationStopper(10), custom);
        var trial = NewTrial();
        Assert.False(combined.ShouldStopTrial(trial, Report(trial, 1).Result));
        Assert.True(combined.ShouldStopTrial(trial, Report(trial, -1).Result));
        Assert.False(combined.ShouldStopExperiment());
        Assert.False(combined.ShouldStopExperiment());
        Assert.True(combined.ShouldStopExperiment());
        Assert.Throws<ArgumentException>(() => new CombinedStopper());
    }
}
