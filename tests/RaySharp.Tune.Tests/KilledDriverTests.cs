using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using RaySharp.Tune.TestDriver;

namespace RaySharp.Tune.Tests;

/// <summary>An experiment whose driver process is killed with SIGKILL halfway, then restored.</summary>
public sealed class KilledDriverTests : TempDirectoryTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The driver's build output next to this test assembly's (tests/X/bin/&lt;Configuration&gt;/net10.0/).</summary>
    private static string DriverPath()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var tests = here.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(tests, "RaySharp.Tune.TestDriver", "bin", here.Parent!.Name, here.Name, "RaySharp.Tune.TestDriver.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"The Tune test driver was not built at {path}; build the solution first.");
    }

    private static string[] ConfigSet(ResultGrid results) => results.Trials.Select(t => t.Id + ":" + t.Config).Order().ToArray();

    [Fact]
    public async Task An_experiment_whose_driver_is_killed_halfway_resumes_and_ends_with_the_same_set_of_trials()
    {
        var reference = await new Tuner(KillableExperiment.Train(TimeSpan.Zero), KillableExperiment.Space(), KillableExperiment.Options(Path.Combine(Root, "reference")))
            .FitAsync().WaitAsync(Timeout);

        // Run the same experiment in a driver process; it halts after half of its 160 results; kill -9 it there.
        var dir = Path.Combine(Root, "killed");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(DriverPath());
        start.ArgumentList.Add(dir);
        start.ArgumentList.Add("80");
        using (var driver = Process.Start(start)!)
        {
            var stderr = driver.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(Timeout);
            var line = await driver.StandardOutput.ReadLineAsync(deadline.Token);
            Assert.True(line == "halted", $"Expected the driver to halt after 80 results; it wrote '{line}' and: {(line is null ? await stderr : "")}");
            driver.Kill(); // SIGKILL: no handler runs, nothing is flushed
            await driver.WaitForExitAsync(deadline.Token);
        }

        var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "experiment_state.json")))!["trials"]!.AsArray();
        var finished = saved.Where(t => t!["status"]!.GetValue<string>() == "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        var unfinished = saved.Where(t => t!["status"]!.GetValue<string>() != "Terminated").Select(t => t!["id"]!.GetValue<string>()).ToHashSet();
        Assert.True(finished.Count > 0 && unfinished.Count > 0, $"Expected finished and unfinished trials in the killed driver's saved state: {saved.ToJsonString()}");

        var starts = new ConcurrentBag<(string Trial, int From)>();
        var results = await Tuner.Restore(dir, KillableExperiment.Train(TimeSpan.Zero, (trial, from) => starts.Add((trial, from))), KillableExperiment.Space(), KillableExperiment.Options(dir))
            .FitAsync().WaitAsync(Timeout);

        Assert.Equal(ConfigSet(reference), ConfigSet(results));
        Assert.Empty(starts.Select(s => s.Trial).Intersect(finished)); // finished trials are not run again
        Assert.Contains(starts, s => unfinished.Contains(s.Trial) && s.From > 0); // an unfinished one resumes from its checkpoint
        Assert.All(results.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.All(results.Trials, t => Assert.Equal(Enumerable.Range(1, KillableExperiment.Iterations), t.Results.Select(r => r.Iteration)));
        Assert.Equal(reference.GetBestTrial().Id, results.GetBestTrial().Id);
        Assert.All(results.Trials, t => Assert.Equal(KillableExperiment.Iterations, t.LatestCheckpoint!.ToObject<int>())); // finished before the kill too
        Assert.Equal(KillableExperiment.Iterations, results.BestCheckpoint!.ToObject<int>());
        foreach (var trial in results.Trials) // and on disk: every iteration once, in order
        {
            var lines = File.ReadAllLines(Path.Combine(dir, "trials", trial.Id, "result.jsonl"));
            Assert.Equal(Enumerable.Range(1, KillableExperiment.Iterations), lines.Select(l => JsonNode.Parse(l)!["training_iteration"]!.GetValue<int>()));
            Assert.Equal(KillableExperiment.Iterations + 1, File.ReadAllLines(Path.Combine(dir, "trials", trial.Id, "progress.csv")).Length);
        }
    }
}
