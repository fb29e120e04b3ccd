using RaySharp.Protocol;
using RaySharp.Runtime.ControlStore;

namespace RaySharp.Runtime.Node;

internal sealed partial class Head
{
    private readonly Dictionary<ActorId, ActorEntry> _actors = [];
    private readonly Dictionary<string, ActorEntry> _named = new(StringComparer.Ordinal);
    private readonly Queue<ActorEntry> _actorsWaitingForResources = new();

    private void CreateActor(TaskEntry creation)
    {
        var spec = creation.Spec;
        var actor = new ActorEntry(spec, creation.Demand);
        _actors[spec.Actor] = actor;
        _tasks.Remove(spec.Id);
        if (spec.Name is { } name && _named.TryGetValue(name, out var existing) && existing.State != ActorState.Dead)
        {
            MarkDead(actor, $"an actor named '{name}' already exists ({existing.Id}); reach it with Ray.GetActorAsync(\"{name}\") or pick another name");
            return;
        }
        if (!_scheduler.IsFeasible(creation.Demand))
        {
            LogInfeasible(_log, actor.Describe, creation.Shape, _scheduler.Total.ToString());
            actor.DeathKind = ErrorKind.Unschedulable;
            MarkDead(actor, Unschedulable(char.ToUpperInvariant(actor.Describe[0]) + actor.Describe[1..], creation.Shape, "ActorOptions"));
            return;
        }
        if (spec.Name is not null)
            _named[spec.Name] = actor;
        ControlStore.Put(Tables.Actors, spec.Actor.ToString(), $"{{\"name\": \"{spec.Name}\", \"type\": \"{spec.ActorTypeName}\", \"state\": \"Starting\"}}");
        PlaceActor(actor);
    }

    /// <summary>Gives the actor resources and a worker of its own; waits in a queue if resources are short.</summary>
    private void PlaceActor(ActorEntry actor)
    {
        if (!_scheduler.TryAcquire(actor.Demand))
        {
            _actorsWaitingForResources.Enqueue(actor);
            return;
        }
        var job = actor.Creation.Id.Job;
        var worker = TakeIdleWorker(job) ?? StartWorker(job, actor);
        worker.Actor = actor;
        actor.Worker = worker;
        if (worker.Registered)
            SendCreation(actor);
    }

    private void PlaceWaitingActors()
    {
        var count = _actorsWaitingForResources.Count;
        for (var i = 0; i < count; i++)
        {
            var actor = _actorsWaitingForResources.Dequeue();
            if (actor.State != ActorState.Dead)
                PlaceActor(actor);
        }
    }

    private void SendCreation(ActorEntry actor)
    {
        var worker = actor.Worker!;
        var creation = new TaskEntry(actor.Creation, actor.Demand, "", "") { Worker = worker, StartedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp() };
        worker.Running[actor.Creation.Id] = creation;
        _tasks[actor.Creation.Id] = creation;
        worker.Link!.Send(new Execute { Spec = actor.Creation, ArgValues = Inline(actor.Creation) });
        while (actor.Waiting.Count > 0)
            SendCall(actor, actor.Waiting.Dequeue());
    }

    private static byte[][] Inline(TaskSpec spec) => Array.ConvertAll(spec.Args, a => a.Inline ?? throw new InvalidOperationException("Actor arguments are sent inline."));

    private void RouteActorCall(TaskEntry call)
    {
        if (!_actors.TryGetValue(call.Spec.Actor, out var actor))
        {
            Fail(call, ErrorInfo.Of(ErrorKind.ActorDied,
                $"Call {call.Spec.DisplayName} went to {call.Spec.Actor}, which this node does not know: it never existed here or belongs to another cluster.", call.Spec.DisplayName));
            return;
        }
        if (actor.State == ActorState.Dead)
        {
            Fail(call, DeadActorCall(actor, call));
            return;
        }
        if (actor.Worker is { Registered: true } && actor.Worker.Running.ContainsKey(actor.Creation.Id) || actor.State == ActorState.Alive)
            SendCall(actor, call);
        else
            actor.Waiting.Enqueue(call);
    }

    private void SendCall(ActorEntry actor, TaskEntry call)
    {
        var worker = actor.Worker!;
        call.Worker = worker;
        call.StartedTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        worker.Running[call.Spec.Id] = call;
        worker.Link!.Send(new Execute { Spec = call.Spec, ArgValues = Inline(call.Spec) });
    }

    private void OnActorCreated(WorkerHandle worker, TaskEntry creation, ErrorInfo? error)
    {
        var actor = worker.Actor;
        if (actor is null || actor.Worker != worker)
            return;
        if (error is null)
        {
            actor.State = ActorState.Alive;
            ControlStore.Put(Tables.Actors, actor.Id.ToString(), $"{{\"name\": \"{actor.Name}\", \"type\": \"{actor.TypeName}\", \"state\": \"Alive\", \"pid\": {worker.Link?.Pid}}}");
            return;
        }
        MarkDead(actor, $"its constructor threw {error.Type}: {error.Message}");
        worker.Link?.Kill();
    }

    private void OnActorWorkerDied(ActorEntry actor, WorkerHandle worker, string reason)
    {
        _scheduler.Release(actor.Demand);
        actor.Worker = null;
        var restart = actor.State != ActorState.Dead && actor.Restarts < actor.Creation.MaxRestarts;
        var note = restart
            ? $"It is being restarted (restart {actor.Restarts + 1} of {actor.Creation.MaxRestarts}); calls made from now on go to the new instance."
            : actor.State == ActorState.Dead ? "" : $"It has no restarts left (MaxRestarts = {actor.Creation.MaxRestarts}).";
        foreach (var call in worker.Running.Values)
        {
            if (call.Spec.Kind != TaskKind.ActorCall)
                continue;
            var why = actor.State == ActorState.Dead ? actor.DeathReason : reason;
            Fail(call, ErrorInfo.Of(ErrorKind.ActorDied, $"{actor.Describe} died while running {call.Spec.DisplayName}: {why}. {note}".TrimEnd(), call.Spec.DisplayName));
        }
        worker.Running.Clear();
        if (restart)
        {
            actor.Restarts++;
            actor.State = ActorState.Restarting;
            PlaceActor(actor);
            return;
        }
        MarkDead(actor, actor.DeathReason ?? reason);
    }

    private void MarkDead(ActorEntry actor, string reason)
    {
        if (actor.State == ActorState.Dead)
            return;
        actor.State = ActorState.Dead;
        actor.DeathReason = reason;
        UnpinContained(actor.Creation); // refs passed to the constructor: no instance will read them again
        Complete(ObjectId.ForReturn(actor.Creation.Id), null, actor.DeathKind == ErrorKind.Unschedulable
            ? ErrorInfo.Of(ErrorKind.Unschedulable, reason, actor.Creation.DisplayName)
            : ErrorInfo.Of(ErrorKind.ActorDied, $"{actor.Describe} could not be created: {reason}.", actor.Creation.DisplayName));
        if (actor.Name is { } name && _named.TryGetValue(name, out var named) && named == actor)
            _named.Remove(name);
        ControlStore.Put(Tables.Actors, actor.Id.ToString(), $"{{\"name\": \"{actor.Name}\", \"type\": \"{actor.TypeName}\", \"state\": \"Dead\"}}");
        while (actor.Waiting.Count > 0)
        {
            var call = actor.Waiting.Dequeue();
            Fail(call, DeadActorCall(actor, call));
        }
    }

    /// <summary>
    /// The error of a call to a dead actor: <see cref="ErrorKind.Unschedulable"/> with the message a task
    /// gets when no node could ever host the actor, else <see cref="ErrorKind.ActorDied"/>.
    /// </summary>
    private static ErrorInfo DeadActorCall(ActorEntry actor, TaskEntry call) => actor.DeathKind == ErrorKind.Unschedulable
        ? ErrorInfo.Of(ErrorKind.Unschedulable, $"{actor.DeathReason} {call.Spec.DisplayName} was not run.", call.Spec.DisplayName)
        : ErrorInfo.Of(ErrorKind.ActorDied, $"{actor.Describe} is dead ({actor.DeathReason}); {call.Spec.DisplayName} was not run.", call.Spec.DisplayName);

    public void KillActor(ActorId id, bool noRestart)
    {
        lock (_lock)
        {
            if (!_actors.TryGetValue(id, out var actor) || actor.State == ActorState.Dead)
                return;
            if (noRestart)
                MarkDead(actor, "it was killed with Ray.Kill");
            if (actor.Worker is { } worker)
            {
                if (worker.Link is not null)
                    worker.Link.Kill();
                else
                    KillProcess(worker);
            }
        }
    }

    public ValueTask<(ActorId Actor, string TypeName)?> LookupActorAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            ThrowIfShutDown();
            return ValueTask.FromResult<(ActorId, string)?>(
                _named.TryGetValue(name, out var actor) && actor.State != ActorState.Dead ? (actor.Id, actor.TypeName) : null);
        }
    }
}
