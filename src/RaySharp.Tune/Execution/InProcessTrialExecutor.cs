using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;

namespace RaySharp.Tune;

/// <summary>
/// Runs each trial's trainable on the thread pool of the current process: the driver's, when the experiment
/// has no <see cref="TuneOptions.Ray"/>, or a trial actor's worker process (<see cref="TrialActor"/>).
/// </summary>
/// <param name="trainable">The function each run executes.</param>
/// <param name="onDisposed">Called once every run has ended (class trainables clean up their idle instances).</param>
internal sealed class InProcessTrialExecutor(TrainableFunction trainable, Action? onDisposed = null) : ITrialExecutor
{
    private readonly TrainableFunction _trainable = trainable ?? throw new ArgumentNullException(nameof(trainable));
    private readonly ConcurrentDictionary<long, Task> _running = new();

    public void Start(TrialRun run, ChannelWriter<TrialEvent> events)
    {
        var task = Task.Run(() => RunAsync(run, events));
        _running[run.Number] = task;
        _ = task.ContinueWith(_ => _running.TryRemove(run.Number, out var _), TaskScheduler.Default);
    }

    private async Task RunAsync(TrialRun run, ChannelWriter<TrialEvent> events)
    {
        var clock = Stopwatch.StartNew();
        TrialError? error = null;
        try
        {
            var context = new TrialContext(run, async (metrics, checkpoint) =>
            {
                var decision = new TaskCompletionSource<TrialDecision>(TaskCreationOptions.RunContinuationsAsynchronously);
                await events.WriteAsync(new TrialReported(run, metrics, checkpoint, clock.Elapsed, decision), run.Cancellation.Token)
                    .ConfigureAwait(false);
                return await decision.Task.WaitAsync(run.Cancellation.Token).ConfigureAwait(false);
            });
            await _trainable(context, run.Cancellation.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested)
        {
            // Paused or stopped by the experiment: a normal end of this run.
        }
        catch (Exception e)
        {
            error = TrialError.From(e);
        }
        // The loop drains its channel until every run has ended, so this write is always read.
        await events.WriteAsync(new TrialEnded(run, error), CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_running.Values).ConfigureAwait(false);
        onDisposed?.Invoke();
    }
}
