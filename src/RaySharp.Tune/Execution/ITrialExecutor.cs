using System.Threading.Channels;

namespace RaySharp.Tune;

/// <summary>
/// The seam between the experiment loop and wherever trials run. The loop starts runs; the executor
/// runs the trainable and writes every report (which waits for the loop's decision) and the run's end to
/// the loop's event channel. <see cref="InProcessTrialExecutor"/> runs trials on the thread pool;
/// <see cref="ActorTrialExecutor"/> runs them as actors on the RaySharp runtime.
/// </summary>
internal interface ITrialExecutor : IAsyncDisposable
{
    /// <summary>
    /// Starts <paramref name="run"/>. Must eventually write exactly one <see cref="TrialEnded"/> for it,
    /// also when <see cref="TrialRun.Cancellation"/> is cancelled.
    /// </summary>
    void Start(TrialRun run, ChannelWriter<TrialEvent> events);
}

/// <summary>One execution of a trial, from a fresh start or a checkpoint until it ends, pauses or stops.</summary>
internal sealed class TrialRun(string trialId, long number, TrialConfig config, Checkpoint? restore)
{
    public string TrialId { get; } = trialId;

    /// <summary>Unique across the experiment, so events of a run the loop has abandoned are recognised.</summary>
    public long Number { get; } = number;

    public TrialConfig Config { get; } = config;

    public Checkpoint? Restore { get; } = restore;

    public int StartIteration => Restore?.Iteration ?? 0;

    /// <summary>Cancelled by the loop (stop, pause, experiment end) or by the run itself after a non-continue decision.</summary>
    public CancellationTokenSource Cancellation { get; } = new();
}

/// <summary>Something a run tells the loop.</summary>
internal abstract record TrialEvent(TrialRun Run);

/// <summary>A report; the run waits on <paramref name="Decision"/>.</summary>
internal sealed record TrialReported(
    TrialRun Run,
    IReadOnlyDictionary<string, double> Metrics,
    Checkpoint? Checkpoint,
    TimeSpan Elapsed,
    TaskCompletionSource<TrialDecision> Decision) : TrialEvent(Run);

/// <summary>The run ended: returned (<paramref name="Error"/> null), or threw, or acknowledged a stop.</summary>
internal sealed record TrialEnded(TrialRun Run, TrialError? Error) : TrialEvent(Run);
