using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace RaySharp.Tune;

/// <summary>
/// What a trial actor sends back for one call: a report (metrics, optional checkpoint) that waits for the
/// experiment's decision, or the end of the run (with the trainable's error, if it threw).
/// </summary>
internal sealed class TrialMessage
{
    public bool Ended { get; set; }

    /// <summary>Full name of the exception type the trainable threw, or null.</summary>
    public string? ErrorType { get; set; }

    public string? ErrorMessage { get; set; }

    /// <summary>The exception's full text in the worker process (type, message, inner exceptions, stack traces).</summary>
    public string? ErrorDetails { get; set; }

    public Dictionary<string, double>? Metrics { get; set; }

    public byte[]? Checkpoint { get; set; }

    public double ElapsedSeconds { get; set; }

    public int ProcessId { get; set; }
}

/// <summary>
/// The actor that runs trials in a worker process of the RaySharp runtime. One run at a time: the driver
/// calls <see cref="StartAsync"/>, then <see cref="NextAsync"/> with its decision after each report, until a
/// message says the run ended; <see cref="Interrupt"/> (a concurrent call, so the actor is created with
/// MaxConcurrency 2) stops a run that is between reports. The actor outlives its runs and is reused for
/// later trials; a class trainable's instance is reused through <see cref="Trainable.ResetConfig"/>.
/// </summary>
internal sealed class TrialActor
{
    private readonly Lock _lock = new();
    private readonly TrainableFunction _trainable;
    private readonly Action _cleanup;
    private readonly InProcessTrialExecutor _executor;
    private readonly HashSet<long> _interrupted = [];
    private Channel<TrialEvent>? _events;
    private TrialRun? _run;
    private TaskCompletionSource<TrialDecision>? _pending;
    private long _lastStarted;

    public TrialActor(RemoteMethod trainable, bool isClassFactory)
    {
        _trainable = new TrainableReference(trainable, isClassFactory).Resolve(out _cleanup);
        _executor = new InProcessTrialExecutor(_trainable);
    }

    /// <summary>Starts run <paramref name="number"/> of a trial and returns its first report or its end.</summary>
    public async Task<TrialMessage> StartAsync(string trialId, long number, string config, byte[]? checkpoint, int checkpointIteration)
    {
        var restore = checkpoint is null ? null : Checkpoint.Load(checkpoint, checkpointIteration);
        var run = new TrialRun(trialId, number, ExperimentState.LoadConfig(JsonNode.Parse(config)!.AsArray()), restore);
        var events = Channel.CreateUnbounded<TrialEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (_lock)
        {
            if (_run is not null)
                throw new InvalidOperationException($"Trial actor got run {number} of {trialId} while run {_run.Number} of {_run.TrialId} is still going.");
            _run = run;
            _events = events;
            _lastStarted = Math.Max(_lastStarted, number);
            if (_interrupted.Remove(number))
                run.Cancellation.Cancel();
        }
        _executor.Start(run, events.Writer);
        return await NextMessageAsync(events).ConfigureAwait(false);
    }

    /// <summary>Answers the pending report (continue, or stop this run) and returns the next report or the end.</summary>
    public async Task<TrialMessage> NextAsync(bool proceed)
    {
        Channel<TrialEvent> events;
        TaskCompletionSource<TrialDecision> pending;
        lock (_lock)
        {
            events = _events ?? throw new InvalidOperationException("No trial run is going on this actor.");
            pending = _pending ?? throw new InvalidOperationException("The trial run has no report waiting for a decision.");
            _pending = null;
        }
        pending.TrySetResult(proceed ? TrialDecision.Continue : TrialDecision.Stop);
        return await NextMessageAsync(events).ConfigureAwait(false);
    }

    /// <summary>Stops run <paramref name="number"/> if it is going (or when it starts, if this call came first).</summary>
    public void Interrupt(long number)
    {
        lock (_lock)
        {
            if (_run?.Number == number)
                _run.Cancellation.Cancel();
            else if (number > _lastStarted)
                _interrupted.Add(number);
        }
    }

    /// <summary>Releases the trainable's idle instances (class trainables) before the actor is killed.</summary>
    public void Shutdown() => _cleanup();

    private async Task<TrialMessage> NextMessageAsync(Channel<TrialEvent> events)
    {
        var e = await events.Reader.ReadAsync().ConfigureAwait(false);
        switch (e)
        {
            case TrialReported reported:
                lock (_lock)
                    _pending = reported.Decision;
                return new TrialMessage
                {
                    Metrics = new Dictionary<string, double>(reported.Metrics, StringComparer.Ordinal),
                    Checkpoint = reported.Checkpoint?.Bytes,
                    ElapsedSeconds = reported.Elapsed.TotalSeconds,
                    ProcessId = Environment.ProcessId,
                };
            case TrialEnded ended:
                lock (_lock)
                {
                    _run = null;
                    _events = null;
                    _pending = null;
                }
                return new TrialMessage
                {
                    Ended = true,
                    ErrorType = ended.Error?.Type,
                    ErrorMessage = ended.Error?.Message,
                    ErrorDetails = ended.Error?.Details,
                    ProcessId = Environment.ProcessId,
                };
            default:
                throw new InvalidOperationException($"Unexpected trial event {e.GetType().Name}.");
        }
    }
}
