using MessagePack;

namespace RaySharp.Protocol;

// The messages of the node's hot path (task specs, actor calls, results, gets, puts) and of the small
// control exchanges a worker or an attached driver needs. One message per length-prefixed frame,
// encoded with MessagePack (an integer union tag, then the fields by position).

internal enum TaskKind : byte
{
    Normal = 0,
    ActorCreation = 1,
    ActorCall = 2,
}

internal enum ErrorKind : byte
{
    TaskFailed = 1,
    ActorDied = 2,
    WorkerCrashed = 3,
    ObjectLost = 4,
    Cancelled = 5,
    System = 6,
    /// <summary>No node can ever meet the resource request (<see cref="UnschedulableException"/>).</summary>
    Unschedulable = 7,
    /// <summary>A value did not fit in the object store; <see cref="ErrorInfo.Type"/> is the store's reason (<c>TooLarge</c> or <c>Full</c>).</summary>
    ObjectStoreFull = 8,
}

/// <summary>An error stored in place of a value.</summary>
[MessagePackObject]
internal sealed class ErrorInfo
{
    [Key(0)] public ErrorKind Kind { get; set; }
    [Key(1)] public string TaskName { get; set; } = "";
    [Key(2)] public string Type { get; set; } = "";
    [Key(3)] public string Message { get; set; } = "";
    [Key(4)] public string Stack { get; set; } = "";

    public static ErrorInfo Of(ErrorKind kind, string message, string taskName = "") =>
        new() { Kind = kind, Message = message, TaskName = taskName };

    public static ErrorInfo FromException(string taskName, Exception e)
    {
        if (e is System.Reflection.TargetInvocationException { InnerException: { } inner })
            e = inner;
        if (e is RayTaskException remote)
            return new() { Kind = ErrorKind.TaskFailed, TaskName = remote.TaskName, Type = remote.RemoteType, Message = remote.RemoteMessage, Stack = remote.RemoteStackTrace };
        return new() { Kind = ErrorKind.TaskFailed, TaskName = taskName, Type = e.GetType().FullName ?? e.GetType().Name, Message = e.Message, Stack = e.StackTrace ?? "" };
    }

    public RayException ToException() => Kind switch
    {
        ErrorKind.TaskFailed => new RayTaskException(TaskName, Type, Message, Stack),
        ErrorKind.ActorDied => new ActorDiedException(Message),
        ErrorKind.WorkerCrashed => new WorkerCrashedException(Message),
        ErrorKind.ObjectLost => new ObjectLostException(Message),
        ErrorKind.Cancelled => new TaskCancelledException(Message),
        ErrorKind.Unschedulable => new UnschedulableException(Message),
        ErrorKind.ObjectStoreFull => new ObjectStoreFullException(Message, neverFits: Type == nameof(RaySharp.ObjectStore.ObjectStoreError.TooLarge)),
        _ => new RaySystemException(Message),
    };
}

/// <summary>A method (or constructor) of the job's code, found again in a worker by assembly and metadata token.</summary>
[MessagePackObject]
internal sealed class FunctionRef
{
    [Key(0)] public string Assembly { get; set; } = "";
    [Key(1)] public int Token { get; set; }
    [Key(2)] public string Name { get; set; } = "";
    [Key(3)] public string Module { get; set; } = "";
}

/// <summary>One argument: an encoded value, one ref (resolved to its value) or refs gathered into an array.</summary>
[MessagePackObject]
internal sealed class ArgSpec
{
    [Key(0)] public byte[]? Inline { get; set; }
    [Key(1)] public ObjectId[]? Refs { get; set; }
    [Key(2)] public bool Gather { get; set; }
    /// <summary>Refs serialised inside <see cref="Inline"/>: the node keeps them alive until the task is done (an actor's constructor arguments: for the actor's life).</summary>
    [Key(3)] public ObjectId[]? Contained { get; set; }
    /// <summary>The handles behind <see cref="Contained"/>, kept reachable until the node has the spec.</summary>
    [IgnoreMember] public ObjectRef[]? ContainedRefs { get; set; }
}

/// <summary>What a task or actor holds while it runs.</summary>
[MessagePackObject]
internal sealed class ResourceDemand
{
    [Key(0)] public double Cpus { get; set; }
    [Key(1)] public long MemoryBytes { get; set; }
    [Key(2)] public Dictionary<string, double>? Custom { get; set; }
}

[MessagePackObject]
internal sealed class TaskSpec
{
    [Key(0)] public TaskKind Kind { get; set; }
    [Key(1)] public TaskId Id { get; set; }
    [Key(2)] public FunctionRef Function { get; set; } = new();
    [Key(3)] public ArgSpec[] Args { get; set; } = [];
    [Key(4)] public ResourceDemand Resources { get; set; } = new();
    [Key(5)] public int MaxRetries { get; set; }
    [Key(6)] public string? Name { get; set; }
    [Key(7)] public ActorId Actor { get; set; }
    [Key(8)] public int MaxRestarts { get; set; }
    [Key(9)] public int MaxConcurrency { get; set; } = 1;
    [Key(10)] public string? ActorTypeName { get; set; }
    /// <summary>An actor creation with <see cref="ActorLifetime.Detached"/>: the actor outlives its job.</summary>
    [Key(11)] public bool Detached { get; set; }

    [IgnoreMember] public string DisplayName => Name ?? Function.Name;
}

internal abstract class Message;

/// <summary>First frame of every connection to a node.</summary>
[MessagePackObject]
internal sealed class Hello : Message
{
    [Key(0)] public ulong WorkerId { get; set; }
    [Key(1)] public int Pid { get; set; }
    [Key(2)] public bool IsDriver { get; set; }
    /// <summary>A driver's application: how the node starts workers for its job (null if unknown).</summary>
    [Key(3)] public string? RuntimeConfig { get; set; }
    [Key(4)] public string? DepsFile { get; set; }
    [Key(5)] public string? WorkerHost { get; set; }
    [Key(6)] public string? Dotnet { get; set; }
}

[MessagePackObject]
internal sealed class HelloReply : Message
{
    [Key(0)] public NodeId Node { get; set; }
    [Key(1)] public JobId Job { get; set; }
    /// <summary>The object store's folder (its arena file), for the peer's store client.</summary>
    [Key(2)] public string StoreDirectory { get; set; } = "";
}

/// <summary>Head → worker: run a task, create an actor or call one, with its argument values resolved.</summary>
[MessagePackObject]
internal sealed class Execute : Message
{
    [Key(0)] public TaskSpec Spec { get; set; } = new();
    /// <summary>Encoded argument values; null where the argument is in the object store.</summary>
    [Key(1)] public byte[]?[] ArgValues { get; set; } = [];
    /// <summary>The store object of each argument whose value is null.</summary>
    [Key(2)] public ObjectId[]? StoreArgs { get; set; }
}

[MessagePackObject]
internal sealed class TaskResult : Message
{
    [Key(0)] public TaskId Task { get; set; }
    [Key(1)] public byte[]? Value { get; set; }
    [Key(2)] public ErrorInfo? Error { get; set; }
    /// <summary>The result was written to the object store under the task's return id.</summary>
    [Key(3)] public bool InStore { get; set; }
    /// <summary>Refs serialised inside the value: kept alive while the result is.</summary>
    [Key(4)] public ObjectId[]? Contained { get; set; }
    /// <summary>The handles behind <see cref="Contained"/>, kept reachable until the frame is written.</summary>
    [IgnoreMember] public ObjectRef[]? ContainedRefs { get; set; }
}

/// <summary>
/// Worker → head: a task started while an older one was still running here (a task blocked in Get passed
/// its CPU slot on). Otherwise the node needs no report: a worker runs its tasks in arrival order on one
/// slot, so its oldest unfinished task is the running one.
/// </summary>
[MessagePackObject]
internal sealed class TaskStarted : Message
{
    [Key(0)] public TaskId Task { get; set; }
}

/// <summary>Head → worker: hand back the older half (rounded up) of the tasks waiting in your queue, not started; another worker is idle.</summary>
[MessagePackObject]
internal sealed class StealTasks : Message;

/// <summary>Why a worker hands tasks back.</summary>
internal enum ReturnReason : byte
{
    /// <summary>The answer to <see cref="StealTasks"/>.</summary>
    Stolen = 0,
    /// <summary>The answer to a <see cref="CancelTask"/> of a task still in the queue.</summary>
    Cancelled = 1,
    /// <summary>The answer to a forced <see cref="CancelTask"/>, whatever the task's state.</summary>
    ForceCancelled = 2,
}

/// <summary>
/// Worker → head: these tasks were removed from the worker's queue and will never run there (the worker
/// is the authority on what has started, so a task handed back is never also run by this worker).
/// </summary>
[MessagePackObject]
internal sealed class TasksReturned : Message
{
    [Key(0)] public TaskId[] Tasks { get; set; } = [];
    [Key(1)] public ReturnReason Reason { get; set; }
    /// <summary>Tasks still waiting in the worker's queue after these were removed.</summary>
    [Key(2)] public int StillQueued { get; set; }
    /// <summary>A forced cancel found its task running here: every queued task was handed back, and the node ends this process.</summary>
    [Key(3)] public bool EndProcess { get; set; }
}

[MessagePackObject]
internal sealed class Submit : Message
{
    [Key(0)] public TaskSpec Spec { get; set; } = new();
}

[MessagePackObject]
internal sealed class Put : Message
{
    [Key(0)] public ObjectId Id { get; set; }
    /// <summary>The encoded value, or null when it was written to the object store.</summary>
    [Key(1)] public byte[]? Value { get; set; }
    /// <summary>Refs serialised inside the value: kept alive while the object is.</summary>
    [Key(2)] public ObjectId[]? Contained { get; set; }
    /// <summary>The handles behind <see cref="Contained"/>, kept reachable until the frame is written.</summary>
    [IgnoreMember] public ObjectRef[]? ContainedRefs { get; set; }
}

[MessagePackObject]
internal sealed class GetRequest : Message
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public ObjectId[] Ids { get; set; } = [];
    [Key(2)] public long TimeoutMs { get; set; } = -1;
    /// <summary>Set when a running task waits: its worker's CPU is lent out until the reply.</summary>
    [Key(3)] public bool FromTask { get; set; }
}

[MessagePackObject]
internal sealed class ObjectValue
{
    [Key(0)] public byte[]? Data { get; set; }
    [Key(1)] public ErrorInfo? Error { get; set; }
    [Key(2)] public bool InStore { get; set; }
}

[MessagePackObject]
internal sealed class GetReply : Message, IRequestReply
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public ObjectValue[]? Values { get; set; }
    [Key(2)] public bool TimedOut { get; set; }
}

[MessagePackObject]
internal sealed class WaitRequest : Message
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public ObjectId[] Ids { get; set; } = [];
    [Key(2)] public int NumReturns { get; set; }
    [Key(3)] public long TimeoutMs { get; set; } = -1;
    [Key(4)] public bool FromTask { get; set; }
}

[MessagePackObject]
internal sealed class WaitReply : Message, IRequestReply
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public bool[] Ready { get; set; } = [];
}

[MessagePackObject]
internal sealed class LookupActor : Message
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public string Name { get; set; } = "";
}

[MessagePackObject]
internal sealed class LookupActorReply : Message, IRequestReply
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public bool Found { get; set; }
    [Key(2)] public ActorId Actor { get; set; }
    [Key(3)] public string TypeName { get; set; } = "";
}

[MessagePackObject]
internal sealed class KillActor : Message
{
    [Key(0)] public ActorId Actor { get; set; }
    [Key(1)] public bool NoRestart { get; set; } = true;
}

[MessagePackObject]
internal sealed class CancelObject : Message
{
    [Key(0)] public ObjectId Id { get; set; }
    [Key(1)] public bool Force { get; set; }
}

/// <summary>
/// Head → worker: cancel a task. Still queued: it is removed and handed back (<see cref="TasksReturned"/>),
/// never run. Running: its cancellation token fires, or with <see cref="Force"/> the worker hands back its
/// other queued tasks and asks the node to end its process.
/// </summary>
[MessagePackObject]
internal sealed class CancelTask : Message
{
    [Key(0)] public TaskId Task { get; set; }
    [Key(1)] public bool Force { get; set; }
}

/// <summary>
/// A process's handles to objects changed (borrowing): it now holds handles to <see cref="Added"/> (refs it
/// read out of values) and no longer holds any to <see cref="Ids"/>. Sent on each 0↔1 change of the
/// process's own count; the node frees an object only when no process holds it.
/// </summary>
[MessagePackObject]
internal sealed class Release : Message
{
    [Key(0)] public ObjectId[] Ids { get; set; } = [];
    [Key(1)] public ObjectId[]? Added { get; set; }
}

/// <summary>Sent before a connection is closed because a frame could not be understood.</summary>
[MessagePackObject]
internal sealed class ProtocolError : Message
{
    [Key(0)] public string Text { get; set; } = "";
}

/// <summary>An object-store control request (reserve, seal, pin, release…), carried opaquely.</summary>
[MessagePackObject]
internal sealed class StoreCall : Message
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public byte[] Request { get; set; } = [];
}

[MessagePackObject]
internal sealed class StoreReply : Message, IRequestReply
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public byte[] Reply { get; set; } = [];
}

[MessagePackObject]
internal sealed class StatusRequest : Message
{
    [Key(0)] public long RequestId { get; set; }
    [Key(1)] public bool Timeline { get; set; }
}

[MessagePackObject]
internal sealed class StatusReply : Message, IRequestReply
{
    [Key(0)] public long RequestId { get; set; }
    /// <summary>The timeline's Chrome trace JSON (a timeline request).</summary>
    [Key(1)] public string Json { get; set; } = "";

    /// <summary>The protobuf encoding of <see cref="Control.ClusterStatus"/> (a status request).</summary>
    [Key(2)] public byte[] Status { get; set; } = [];
}

/// <summary>A reply that answers one request, matched to its waiter by <see cref="RequestId"/>.</summary>
internal interface IRequestReply
{
    /// <summary>The id of the request this answers.</summary>
    long RequestId { get; }
}
