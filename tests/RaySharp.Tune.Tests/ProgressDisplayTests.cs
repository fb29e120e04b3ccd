using System.Text;
using System.Text.RegularExpressions;
using Spectre.Console.Testing;

namespace RaySharp.Tune.Tests;

public sealed partial class ProgressDisplayTests : TempDirectoryTest
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [GeneratedRegex(@"^== Tune: \d+ trials \([a-z0-9, ]+\)( \| best acc \S+ \(trial \d{5}\))? \| \d+\.\d s ==$")]
    private static partial Regex StatusLine();

    [Fact]
    public async Task Redirected_progress_is_one_status_line_per_update_and_the_table_once_at_the_end()
    {
        var progress = new LineWriter();
        // Each trial keeps reporting until the display has written a periodic line, so one exists whatever the timing.
        TrainableFunction train = async (trial, ct) =>
        {
            for (var t = 1; ; t++)
            {
                await trial.ReportAsync("acc", trial.Config.Get<double>("q") * t / (t + 1.0));
                if (t >= 3 && progress.FirstLine.Task.IsCompleted)
                    return;
                if (t > 100_000)
                    throw new TimeoutException("The progress display wrote no periodic line during 100,000 reports.");
            }
        };
        await new Tuner(train, new SearchSpace { ["q"] = Space.Grid(0.2, 0.6, 0.4) }, new TuneOptions
        {
            Metric = "acc",
            Mode = TuneMode.Max,
            MaxConcurrentTrials = 2,
            ExperimentDirectory = Path.Combine(Root, "plain"),
            Progress = progress,
            ProgressInterval = TimeSpan.FromMilliseconds(1),
        }).FitAsync().WaitAsync(Timeout);

        var lines = progress.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var table = Array.FindIndex(lines, l => l.StartsWith("trial  ", StringComparison.Ordinal));
        Assert.True(table >= 2, $"expected periodic status lines before the final table:\n{progress}");
        Assert.All(lines[..table], l => Assert.Matches(StatusLine(), l)); // plain lines only, no redraw codes
        Assert.StartsWith("== Tune: 3 trials (3 terminated) | best acc ", lines[table - 1], StringComparison.Ordinal);
        Assert.Equal(1, lines.Count(l => l.StartsWith("trial  ", StringComparison.Ordinal))); // the table once
        Assert.Equal(3, lines.Length - table - 2);                                             // header, rule, 3 trials
        Assert.DoesNotContain('\u001b', progress.ToString());
    }

    [Fact]
    public async Task On_an_interactive_terminal_the_table_is_redrawn_in_place()
    {
        var console = new TestConsole().Interactive().EmitAnsiSequences();
        var trials = new List<Trial>();
        var display = new LiveProgressDisplay(console);
        for (var i = 1; i <= 3; i++)
        {
            var trial = new Trial($"0000{i}", new TrialConfig([new("q", i / 10.0)]));
            trial.AddResult(new TrialResult(trial.Id, 1, new Dictionary<string, double> { ["acc"] = i / 10.0 }));
            trials.Add(trial);
            var grid = new ResultGrid([.. trials], "acc", TuneMode.Max, Root, TimeSpan.FromSeconds(i));
            if (i < 3)
                display.Update(grid, $"== Tune: {i} trials ==");
            else
                display.Complete(grid, "== Tune: 3 trials ==");
        }
        await display.DisposeAsync().AsTask().WaitAsync(Timeout);

        var output = console.Output;
        Assert.Contains("== Tune: 3 trials ==", output, StringComparison.Ordinal);
        Assert.Contains("00003", output, StringComparison.Ordinal);
        Assert.Matches(@"\u001b\[\d*A", output); // the cursor moves back up over the previous drawing
    }

    /// <summary>A StringWriter that signals its first complete line.</summary>
    private sealed class LineWriter : StringWriter
    {
        public TaskCompletionSource FirstLine { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            FirstLine.TrySetResult();
        }
    }
}
