namespace RaySharp.Tune.Tests;

public sealed class PbtFinishedTrialTests : TempDirectoryTest
{
    /// <summary>
    /// Climbs by lr per iteration and returns once it reaches 50, checkpointing every step. It reports
    /// at least once per run: a trial that PBT restarts from a donor's last checkpoint (which may already
    /// be past 50, the donor having reported it just before it ended) still reports where it stands.
    /// </summary>
    private static async Task ClimbTo50(TrialContext trial, CancellationToken ct)
    {
        var lr = trial.Config.Get<double>("lr");
        var height = trial.Checkpoint?.ToObject<double>() ?? 0;
        do
        {
            height += lr;
            await trial.ReportAsync("height", height, Checkpoint.FromObject(height));
        }
        while (height < 50);
    }

    [Fact]
    public async Task Pbt_does_not_exploit_trials_that_already_finished_so_self_ending_trials_all_finish()
    {
        var pbt = new PbtScheduler(new PbtOptions
        {
            Mutations = new Dictionary<string, Domain> { ["lr"] = Space.Uniform(0.1, 2) },
            PerturbationInterval = 4,
            Seed = 7,
        });
        var timeout = TimeSpan.FromSeconds(30);
        using var cancel = new CancellationTokenSource(timeout);
        var tuner = new Tuner(ClimbTo50, new SearchSpace { ["lr"] = Space.Uniform(0.1, 2) }, new TuneOptions
        {
            Metric = "height",
            Mode = TuneMode.Max,
            NumSamples = 8,
            MaxConcurrentTrials = 2,
            Scheduler = pbt,
            ExperimentDirectory = Root,
        });

        ResultGrid results;
        try
        {
            results = await tuner.FitAsync(cancel.Token);
        }
        finally
        {
            Assert.False(cancel.IsCancellationRequested, $"The PBT experiment did not finish within {timeout} (a trial kept being exploited from a finished one).");
        }

        Assert.Equal(8, results.Trials.Count);
        Assert.All(results.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.All(results.Trials, t => Assert.True(t.LastResult!.Metrics["height"] >= 50, $"trial {t.Id} ended at {t.LastResult.Metrics["height"]}"));
        Assert.NotEmpty(pbt.Exploits);
        Assert.All(pbt.Exploits, e => Assert.NotEqual(e.Trial, e.Donor));
    }
}
