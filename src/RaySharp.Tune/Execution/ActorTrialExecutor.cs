using System.Collections.Concurrent;
using System.Threading.Channels;

namespace RaySharp.Tune;

/// <summary>
/// Runs each trial as a <see cref="TrialActor"/> on the RaySharp runtime, with the trial's resource request.
/// Reports stream back one actor call at a time (the trainable waits in its process for the decision);
/// checkpoints travel as bytes. An actor whose run ended normally goes to an idle pool and is reused for the
/// next trial with the same resource request; an actor whose process died is dropped, and the run ends
/// with the error so the experiment retries the trial from its latest checkpoint on a fresh actor.
/// At most <c>maxActors</c> actors live at once: idle actors keep their resources reserved, so a new run
/// that finds none idle and no free slot waits for a run to hand its actor back (evicting an idle actor
/// with another resource request if need be) instead of asking the cluster for more than it gave out.
/// </summary>
internal sealed class ActorTrialExecutor : ITrialExecutor
{
    private readonly Ray _ray;
    private readonly TrainableReference _trainable;
    private readonly Func<TrialConfig, TrialResources> _resources;
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly ConcurrentDictionary<string, ConcurrentBag<ActorHandle<TrialActor>>> _idle = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots;
    private readonly SemaphoreSlim _changed = new(0);
    private int _created;

    public ActorTrialExecutor(Ray ray, TrainableReference trainable, Func<TrialConfig, TrialResources> resources, int maxActors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxActors, 1);
        _slots = new SemaphoreSlim(maxActors, maxActors);
        _ray = ray ?? throw new ArgumentNullException(nameof(ray));
        _trainable = trainable ?? throw new ArgumentNullException(nameof(trainable));
        _resources = resources ?? throw new ArgumentNullException(nameof(resources));
    }

    /// <summary>Actors created so far (fewer than runs when actors are reused).</summary>
    public int ActorsCreated => Volatile.Read(ref _created);

    public void Start(TrialRun run, ChannelWriter<TrialEvent> events)
    {
        var task = Task.Run(() => RunAsync(run, events));
        _running[run.Number] = task;
        _ = task.ContinueWith(_ => _running.TryRemove(run.Number, out var _), TaskScheduler.Default);
    }

    private async Task RunAsync(TrialRun run, ChannelWriter<TrialEvent> events)
    {
        TrialError? error = null;
        ActorHandle<TrialActor>? actor = null;
        string? key = null;
        var healthy = false;
        try
        {
            var resources = _resources(run.Config) ?? throw new InvalidOperationException($"The per-trial resources function returned null for trial {run.TrialId}.");
            resources.Validate($"Resources of trial {run.TrialId}");
            key = resources.Key;
            actor = await AcquireAsync(key, resources, run.Cancellation.Token).ConfigureAwait(false);
            var config = ExperimentState.SaveConfig(run.Config).ToJsonString();
            var checkpoint = run.Restore?.Bytes;
            var iteration = run.Restore?.Iteration ?? 0;
            var (trialId, number) = (run.TrialId, run.Number);
            var message = await Interruptible(actor, run, actor.Call(a => a.StartAsync(trialId, number, config, checkpoint, iteration))).ConfigureAwait(false);
            while (!message.Ended)
            {
                var decision = new TaskCompletionSource<TrialDecision>(TaskCreationOptions.RunContinuationsAsynchronously);
                var proceed = false;
                if (!run.Cancellation.IsCancellationRequested)
                {
                    var metrics = message.Metrics ?? throw new InvalidOperationException($"Trial {run.TrialId}'s actor sent a report without metrics.");
                    var reported = message.Checkpoint is null ? null : Checkpoint.FromBytes(message.Checkpoint);
                    try
                    {
                        await events.WriteAsync(new TrialReported(run, metrics, reported, TimeSpan.FromSeconds(message.ElapsedSeconds), decision), run.Cancellation.Token)
                            .ConfigureAwait(false);
                        proceed = await decision.Task.WaitAsync(run.Cancellation.Token).ConfigureAwait(false) == TrialDecision.Continue;
                    }
                    catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested)
                    {
                        // Stopped or paused by the experiment while deciding: tell the actor to stop.
                    }
                }
                if (!proceed && !run.Cancellation.IsCancellationRequested)
                    await run.Cancellation.CancelAsync().ConfigureAwait(false);
                message = proceed
                    ? await Interruptible(actor, run, actor.Call(a => a.NextAsync(true))).ConfigureAwait(false)
                    : await actor.Call(a => a.NextAsync(false));
            }
            healthy = true;
            if (message.ErrorType is not null)
            {
                error = new TrialError(message.ErrorType, message.ErrorMessage ?? "",
                    $"{message.ErrorDetails}{Environment.NewLine}--- thrown in worker process {message.ProcessId} (the trial's actor) ---");
            }
        }
        catch (OperationCanceledException) when (actor is null && run.Cancellation.IsCancellationRequested)
        {
            // Stopped while waiting for an actor: the run ends without having started.
        }
        catch (Exception e)
        {
            // A RayException: the actor's process died (killed, crashed, out of memory) or the cluster could
            // not place it; a RayTaskException keeps the remote type, message and stack.
            error = TrialError.From(e);
        }
        if (actor is not null && key is not null)
        {
            if (healthy)
                _idle.GetOrAdd(key, _ => []).Add(actor);
            else
                Retire(actor);
            _changed.Release();
        }
        // The loop drains its channel until every run has ended, so this write is always read.
        await events.WriteAsync(new TrialEnded(run, error), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Awaits an actor call that runs the trainable; if the run is cancelled meanwhile, asks the actor to stop it.</summary>
    private static async Task<TrialMessage> Interruptible(ActorHandle<TrialActor> actor, TrialRun run, ObjectRef<TrialMessage> call)
    {
        var number = run.Number;
        await using (run.Cancellation.Token.Register(() =>
        {
            try
            {
                actor.Call(a => a.Interrupt(number));
            }
            catch (Exception e) when (e is RayException or ObjectDisposedException)
            {
                // The actor or the runtime is gone; the call in flight fails by itself.
            }
        }))
        {
            return await call;
        }
    }

    private ActorHandle<TrialActor>? TakeIdle(string key) =>
        _idle.TryGetValue(key, out var pool) && pool.TryTake(out var actor) ? actor : null;

    /// <summary>An idle actor with this request, else a new one in a free slot, else (after evicting or waiting) one of those.</summary>
    private async Task<ActorHandle<TrialActor>> AcquireAsync(string key, TrialResources resources, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TakeIdle(key) is { } idle)
                return idle;
            if (_slots.Wait(0))
                return Create(resources);
            var other = _idle.Values.Select(pool => pool.TryTake(out var a) ? a : null).FirstOrDefault(a => a is not null);
            if (other is not null)
            {
                Retire(other); // another resource request: free its slot for ours
                continue;
            }
            await _changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void Retire(ActorHandle<TrialActor> actor)
    {
        TryKill(actor);
        _slots.Release();
    }

    private ActorHandle<TrialActor> Create(TrialResources resources)
    {
        Interlocked.Increment(ref _created);
        var (method, isClass) = (_trainable.Method, _trainable.IsClassFactory);
        return _ray.Actor(() => new TrialActor(method, isClass))
            .WithOptions(new ActorOptions
            {
                MaxConcurrency = 2, // one call runs the trainable, the other can interrupt it
                NumCpus = resources.Cpus,
                MemoryBytes = resources.MemoryBytes,
                Resources = resources.Custom,
            })
            .Remote();
    }

    private void TryKill(ActorHandle<TrialActor> actor)
    {
        try
        {
            _ray.Kill(actor);
        }
        catch (Exception e) when (e is RayException or ObjectDisposedException)
        {
            // Already dead, or the runtime is shutting down: nothing left to release.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_running.Values).ConfigureAwait(false);
        foreach (var actor in _idle.Values.SelectMany(pool => pool))
        {
            try
            {
                await actor.Call(a => a.Shutdown());
            }
            catch (RayException)
            {
                // Its process is gone; nothing to clean up.
            }
            Retire(actor);
        }
        _idle.Clear();
    }
}
