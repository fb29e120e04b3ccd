using System.Text;
using System.Text.Json;

namespace RaySharp.Tune.Tests;

public sealed class ExperimentFilesTests : TempDirectoryTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private string Dir(string name) => Path.Combine(Root, name);

    /// <summary>Reports "µ-loss" for 3 checkpointed steps; a trial whose "kind" is "bad" throws from a nested method at step 2.</summary>
    private static async Task TrainOrThrow(TrialContext trial, CancellationToken ct)
    {
        for (var t = trial.Iteration + 1; t <= 3; t++)
        {
            if (t == 2 && trial.Config.Get<string>("kind") == "bad")
                ThrowsDeepInside(trial.TrialId);
            await trial.ReportAsync("µ-loss", trial.Config.Get<double>("x") / t, Checkpoint.FromObject(t));
        }
    }

    private static void ThrowsDeepInside(string trialId) =>
        throw new InvalidOperationException($"trial {trialId} diverged\nsecond line of the message");

    private static async Task AlwaysThrows(TrialContext trial, CancellationToken ct)
    {
        await trial.ReportAsync("loss", 1);
        ThrowsDeepInside(trial.TrialId);
    }

    [Fact]
    public async Task Every_file_an_experiment_writes_is_utf8_without_a_byte_order_mark()
    {
        var dir = Dir("bom");
        var space = new SearchSpace { ["x"] = Space.Uniform(0, 1), ["kind"] = Space.Grid("good", "bad"), ["note"] = "ünïcode" };
        var results = await new Tuner(TrainOrThrow, space, new TuneOptions
        {
            Metric = "µ-loss",
            NumSamples = 2,
            MaxConcurrentTrials = 2,
            ExperimentDirectory = dir,
        }).FitAsync().WaitAsync(Timeout);
        results.SavePlots();

        var files = Directory.GetFiles(dir, "*", SearchOption.AllDirectories);
        foreach (var name in new[] { "experiment_state.json", "results.csv", "params.json", "progress.csv", "result.jsonl", "error.txt", "checkpoint_000001.bin", "learning_curves.png" })
            Assert.Contains(files, f => Path.GetFileName(f) == name);
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            Assert.False(bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]), $"{Path.GetRelativePath(dir, file)} starts with a UTF-8 byte-order mark.");
            if (Path.GetExtension(file) is ".json" or ".jsonl" or ".csv" or ".txt")
                StrictUtf8.GetString(bytes); // throws on anything that is not UTF-8
        }

        // The first line of every result.jsonl parses as JSON from its raw bytes, as Python's json.loads reads it.
        foreach (var jsonl in files.Where(f => Path.GetFileName(f) == "result.jsonl"))
        {
            var bytes = File.ReadAllBytes(jsonl);
            var firstLine = bytes.AsSpan(0, bytes.AsSpan().IndexOf((byte)'\n'));
            var reader = new Utf8JsonReader(firstLine);
            using var line = JsonDocument.ParseValue(ref reader);
            Assert.Equal(1, line.RootElement.GetProperty("training_iteration").GetInt32());
            Assert.True(line.RootElement.TryGetProperty("µ-loss", out _));
        }
        var progress = File.ReadAllBytes(Path.Combine(dir, "trials", results.Trials[0].Id, "progress.csv"));
        Assert.StartsWith("iteration,time_s,µ-loss\n", StrictUtf8.GetString(progress), StringComparison.Ordinal);
        Assert.Contains("ünïcode", StrictUtf8.GetString(File.ReadAllBytes(Path.Combine(dir, "results.csv"))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_trial_keeps_its_full_stack_trace_and_writes_every_failure_to_error_txt()
    {
        var dir = Dir("trace");
        var space = new SearchSpace { ["x"] = Space.Uniform(0, 1), ["kind"] = Space.Grid("good", "bad") };
        var results = await new Tuner(TrainOrThrow, space, new TuneOptions
        {
            Metric = "µ-loss",
            MaxFailures = 1,
            ExperimentDirectory = dir,
        }).FitAsync().WaitAsync(Timeout);

        var failed = Assert.Single(results.Errors);
        var error = failed.Error!;
        Assert.Equal("System.InvalidOperationException", error.Type);
        Assert.Equal($"trial {failed.Id} diverged\nsecond line of the message", error.Message);
        Assert.Equal($"InvalidOperationException: trial {failed.Id} diverged", error.Summary);
        Assert.StartsWith($"System.InvalidOperationException: trial {failed.Id} diverged", error.Details, StringComparison.Ordinal);
        Assert.Contains(nameof(ThrowsDeepInside), error.Details, StringComparison.Ordinal); // the stack trace, down to the throwing method
        Assert.Contains(nameof(TrainOrThrow), error.Details, StringComparison.Ordinal);
        Assert.Equal(error.Details, error.ToString());

        // error.txt in the trial's folder holds both failures (the first and its retry), each with its trace.
        var text = File.ReadAllText(Path.Combine(dir, "trials", failed.Id, "error.txt"));
        Assert.StartsWith($"Failure 1 of trial {failed.Id} after iteration 1 (", text, StringComparison.Ordinal);
        Assert.Contains($"Failure 2 of trial {failed.Id} after iteration 1 (", text, StringComparison.Ordinal);
        Assert.Equal(2, text.Split(nameof(ThrowsDeepInside)).Length - 1);
        Assert.False(File.Exists(Path.Combine(dir, "trials", results.Trials.Single(t => t != failed).Id, "error.txt")));

        // The saved state keeps the whole error too.
        var reopened = ResultGrid.Open(dir).Trials.Single(t => t.Id == failed.Id).Error!;
        Assert.Equal((error.Type, error.Message, error.Details), (reopened.Type, reopened.Message, reopened.Details));
    }

    [Fact]
    public async Task An_experiment_whose_every_trial_fails_ends_with_an_error_listing_the_first_failures()
    {
        var dir = Dir("all-failed");
        var tuner = new Tuner(AlwaysThrows, new SearchSpace { ["x"] = Space.Uniform(0, 1) }, new TuneOptions
        {
            Metric = "loss",
            NumSamples = 7,
            MaxConcurrentTrials = 2,
            ExperimentDirectory = dir,
        });
        var e = await Assert.ThrowsAsync<AllTrialsFailedException>(() => tuner.FitAsync().WaitAsync(Timeout));

        Assert.StartsWith("All 7 trials of the experiment failed (each retried up to TuneOptions.MaxFailures = 0 times):", e.Message, StringComparison.Ordinal);
        foreach (var id in new[] { "00001", "00002", "00003", "00004", "00005" })
            Assert.Contains($"\n  trial {id}: InvalidOperationException: trial {id} diverged\n", e.Message.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("trial 00006:", e.Message, StringComparison.Ordinal);
        Assert.Contains("… and 2 more", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("second line of the message", e.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(dir), e.Message, StringComparison.Ordinal);

        // The results stay: in the exception, and on disk.
        Assert.Equal(7, e.Results.Trials.Count);
        Assert.All(e.Results.Trials, t => Assert.Equal(TrialStatus.Error, t.Status));
        Assert.All(e.Results.Trials, t => Assert.Equal([1], t.Results.Select(r => r.Iteration)));
        Assert.Equal(8, File.ReadAllLines(Path.Combine(dir, "results.csv")).Length);
        var opened = ResultGrid.Open(dir);
        Assert.Equal(7, opened.Errors.Count);
        Assert.All(opened.Trials, t => Assert.True(File.Exists(Path.Combine(dir, "trials", t.Id, "error.txt"))));
    }
}
