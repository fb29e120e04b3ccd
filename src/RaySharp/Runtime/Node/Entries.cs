using RaySharp.Protocol;
using RaySharp.Runtime.Scheduling;

namespace RaySharp.Runtime.Node;

/// <summary>An object the node knows: pending until its value (or error) arrives.</summary>
internal sealed class ObjectEntry
{
    public bool Ready;
    public byte[]? Data;
    public ErrorInfo? Error;
    /// <summary>The value lives in the node's shared-memory store (it was larger than the inline limit).</summary>
    public bool InStore;
    /// <summary>Live <see cref="ObjectRef"/> instances in this process (the node's).</summary>
    public int LocalRefs;
    /// <summary>Other processes holding handles to it (borrowers: workers, attached drivers), one per process.</summary>
    public int RemoteRefs;
    /// <summary>Unfinished tasks that take it as an argument or carry a ref to it inside an argument value (actor constructors: live actors).</summary>
    public int ArgUses;
    /// <summary>Live objects whose value contains a ref to it.</summary>
    public int ContainedIn;
    /// <summary>The refs inside this object's value: each is kept alive while this object is.</summary>
    public ObjectId[]? Contains;
    public NodeId Location;
    public List<TaskEntry>? Dependents;
    public List<ObjectWaiter>? Waiters;
}

/// <summary>
/// The handles one other process (a worker or an attached driver) holds, as that process reported them:
/// dropped all at once when its connection closes. Used under the node lock.
/// </summary>
internal sealed class RefHolder
{
    public Dictionary<ObjectId, int> Held { get; } = [];
}

/// <summary>Completes when enough of the objects it was registered on are ready. Used under the node lock.</summary>
internal sealed class ObjectWaiter(int needed, bool blocking)
{
    private int _needed = needed;

    /// <summary>For async waits: continuations run on the thread pool, never under the node lock.</summary>
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>For a thread that blocks (a sync Get in this process): woken directly, no thread-pool hop.</summary>
    public ManualResetEventSlim? Event { get; } = blocking ? new ManualResetEventSlim() : null;

    public void OneReady()
    {
        if (--_needed == 0)
            Release();
    }

    public void Release()
    {
        Done.TrySetResult();
        Event?.Set();
    }
}

/// <summary>A submitted task, actor creation or actor call that has not finished.</summary>
internal sealed class TaskEntry(TaskSpec spec, ResourceSet demand, string shape, string queueKey)
{
    public TaskSpec Spec { get; } = spec;
    public ResourceSet Demand { get; } = demand;
    public string Shape { get; } = shape;
    /// <summary>The ready queue (and worker lease) it belongs to: its job's workers with its resource shape.</summary>
    public string QueueKey { get; } = queueKey;
    public JobId Job => Spec.Id.Job;
    public int PendingDeps;
    /// <summary>Its ref arguments were counted (<see cref="ObjectEntry.ArgUses"/>), so finishing it releases them.</summary>
    public bool RefArgsPinned;
    public int RetriesLeft = spec.MaxRetries;
    public WorkerHandle? Worker;
    /// <summary>Running on <see cref="Worker"/> as far as the node knows; false while it waits in the worker's queue (actor work is not tracked: always true).</summary>
    public bool Started = spec.Kind != TaskKind.Normal;
    /// <summary>Its place in <see cref="WorkerHandle.Order"/> while it is on a worker.</summary>
    public LinkedListNode<TaskEntry>? OrderNode;
    public bool Cancelled;
    public long StartedTimestamp;
}

/// <summary>The node's link to one worker, in another process or (local mode) in this one.</summary>
internal interface IWorkerLink
{
    int Pid { get; }

    void Send(Message message);

    /// <summary>Ends the worker at once (kill -9 for a process).</summary>
    void Kill();
}

/// <summary>One worker: a pooled task runner, or the host of one actor.</summary>
internal sealed class WorkerHandle(ulong id, JobId job)
{
    public ulong Id { get; } = id;
    /// <summary>The job whose application this worker runs.</summary>
    public JobId Job { get; } = job;
    public IWorkerLink? Link;
    public System.Diagnostics.Process? Process;
    public ActorEntry? Actor;
    public ResourceSet? Lease;
    public string? LeaseShape;
    public bool LeaseLent;
    public int Blocked;
    public bool Dead;
    /// <summary>Tasks sent to it and not finished: running, or waiting in its queue (<see cref="TaskEntry.Started"/> false).</summary>
    public readonly Dictionary<TaskId, TaskEntry> Running = [];
    /// <summary>
    /// Its unfinished normal tasks in the order they were sent, which is the order it starts them (one CPU
    /// slot, FIFO): the first is running, and so is any it reported (<see cref="Protocol.TaskStarted"/>).
    /// </summary>
    public readonly LinkedList<TaskEntry> Order = new();
    /// <summary>How many of <see cref="Running"/> the node counts as not started.</summary>
    public int Unstarted;
    /// <summary>Specs sent to it so far (tells a steal answer apart from sends that crossed it).</summary>
    public long Sent;
    /// <summary><see cref="Sent"/> when the pending steal was asked.</summary>
    public long SentAtSteal;
    /// <summary>A <see cref="Protocol.StealTasks"/> is unanswered.</summary>
    public bool Stealing;
    /// <summary>Its last steal answer left nothing queued and nothing was sent since: not asked again until something is.</summary>
    public bool NothingToSteal;
    /// <summary>Forced cancels sent and unanswered: no new spec goes to it meanwhile (it may be about to be ended).</summary>
    public int ForceCancels;

    public bool Registered => Link is not null;

    public override string ToString() => Link is null ? $"worker {Id} (starting)" : $"worker {Id} (pid {Link.Pid})";
}

internal enum ActorState
{
    Starting,
    Alive,
    Restarting,
    Dead,
}

/// <summary>An actor: its creation spec (re-run on restart), its worker and the calls waiting for it.</summary>
internal sealed class ActorEntry(TaskSpec creation, ResourceSet demand)
{
    public TaskSpec Creation { get; } = creation;
    public ResourceSet Demand { get; } = demand;
    public ActorId Id => Creation.Actor;
    public string TypeName => Creation.ActorTypeName ?? "";
    public string? Name => Creation.Name;
    public ActorState State = ActorState.Starting;
    public WorkerHandle? Worker;
    public int Restarts;
    public string? DeathReason;
    /// <summary>Why calls on it fail once dead: <see cref="ErrorKind.ActorDied"/>, or <see cref="ErrorKind.Unschedulable"/> when no node can host it.</summary>
    public ErrorKind DeathKind = ErrorKind.ActorDied;
    public readonly Queue<TaskEntry> Waiting = new();

    public string Describe => Name is null ? $"actor {Id} ({ShortType})" : $"actor '{Name}' ({ShortType})";

    private string ShortType => TypeName[(TypeName.LastIndexOf('.') + 1)..];
}

/// <summary>What <c>raysharp list tasks</c> and <c>status</c> call a task's states.</summary>
internal static class TaskStates
{
    /// <summary>Some ref argument is not ready yet.</summary>
    public const string WaitingForArguments = "waiting for arguments";
    /// <summary>In the node's ready queue: waits for resources or a worker.</summary>
    public const string Queued = "queued";
    /// <summary>Sent to a busy worker; waits in its queue (an idle worker would steal it).</summary>
    public const string QueuedOnWorker = "queued on worker";
    public const string Running = "running";
    public const string Finished = "finished";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>One normal task that ended, as <c>list tasks</c> shows it.</summary>
internal readonly record struct EndedTask(TaskId Task, string Name, string State, int WorkerPid);

/// <summary>One executed task for the timeline.</summary>
internal readonly record struct TimelineEvent(string Name, TaskId Task, int Pid, long StartTimestamp, long EndTimestamp, bool Failed);
