using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RaySharp.ObjectStore;
using RaySharp.Protocol;
using RaySharp.Runtime.ControlStore;
using RaySharp.Runtime.Scheduling;

namespace RaySharp.Runtime.Node;

/// <summary>
/// The node: object table, task table, local scheduler, worker pool and actor directory of one
/// machine, plus the control store it hosts as head. All bookkeeping happens under one lock and never
/// blocks inside it; messages to workers are queued, not awaited. Drivers in this process call it
/// directly (no hop); workers and attached drivers reach it through <see cref="NodeServer"/>.
/// Partial: <c>Head.Objects.cs</c> (puts, gets, waits, reference counting), <c>Head.Actors.cs</c> (actors),
/// <c>Head.Workers.cs</c> (worker pool, processes).
/// </summary>
internal sealed partial class Head : ICoreClient
{
    /// <summary>
    /// How many task specs a leased worker may hold at once (pipelining): a burst costs one socket write per
    /// batch, not a round trip per task. A spec waiting in a worker's queue never waits while a worker that
    /// could run it is idle: the idle worker steals it back (<see cref="StealForIdleWorkers"/>).
    /// </summary>
    private const int PipelineDepth = 32;

    private readonly object _lock = new();
    private readonly Dictionary<ObjectId, ObjectEntry> _objects = [];
    private readonly Dictionary<TaskId, TaskEntry> _tasks = [];
    private readonly Dictionary<string, ReadyQueue<TaskEntry>> _ready = new(StringComparer.Ordinal);
    private readonly LocalScheduler _scheduler;
    private readonly ILogger _log;
    /// <summary>The last executed tasks, for the timeline.</summary>
    private readonly BoundedRing<TimelineEvent> _timeline = new(100_000);
    /// <summary>The node's start on its monotonic clock and on the wall clock: timeline times are wall-clock microseconds.</summary>
    private readonly (long Timestamp, long UnixMicroseconds) _clockOrigin = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
    /// <summary>The last normal tasks that ended, for <c>list tasks</c>.</summary>
    private readonly BoundedRing<EndedTask> _ended = new(1000);
    private int _readyCount;
    /// <summary>Specs sent to workers whose start the node has not seen yet (queued in a worker), over all workers.</summary>
    private int _unstarted;
    private bool _shutDown;

    public Head(RayOptions options, bool localMode)
    {
        Options = options;
        LocalMode = localMode;
        _log = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("RaySharp.Node");
        NumCpus = options.NumCpus ?? Environment.ProcessorCount;
        var total = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            [ResourceSet.Cpu] = NumCpus,
            [ResourceSet.Memory] = options.MemoryBytes,
        };
        foreach (var (k, v) in options.Resources ?? new Dictionary<string, double>())
            total[k] = v;
        _scheduler = new LocalScheduler(new ResourceSet(total));
        Job = UniqueIds.NewJob();
        Node = new NodeId(UniqueIds.Next());
        ObjectStore = new SharedMemoryObjectStore<ObjectId>(new ObjectStoreOptions
        {
            CapacityBytes = options.ObjectStoreBytes,
            Preallocate = options.PreallocateObjectStore,
        });
        Store = new ObjectStoreClient<ObjectId>(ObjectStore, ObjectStore.Directory);
        ControlStore.Put(Tables.Nodes, Node.ToString(), $"{{\"resources\": \"{_scheduler.Total}\", \"pid\": {Environment.ProcessId}}}");
        ControlStore.Put(Tables.Jobs, Job.ToString(), $"{{\"driver_pid\": {Environment.ProcessId}}}");
    }

    public RayOptions Options { get; }

    public bool LocalMode { get; }

    public int NumCpus { get; }

    public JobId Job { get; }

    public NodeId Node { get; }

    public IControlStore ControlStore { get; } = new InMemoryControlStore();

    /// <summary>The node's shared-memory object store.</summary>
    public SharedMemoryObjectStore<ObjectId> ObjectStore { get; }

    /// <summary>The in-process client of <see cref="ObjectStore"/> (drivers and local-mode workers in this process).</summary>
    public ObjectStoreClient<ObjectId> Store { get; }

    public string? Address => _server?.Address;

    /// <summary>
    /// A monotonic timestamp as microseconds since the Unix epoch (the node's wall clock at start plus the
    /// monotonic time since), so timelines of different nodes and runs line up and durations never jump.
    /// </summary>
    internal double UnixMicroseconds(long timestamp) => _clockOrigin.UnixMicroseconds + Stopwatch.GetElapsedTime(_clockOrigin.Timestamp, timestamp).TotalMicroseconds;

    internal IReadOnlyList<TimelineEvent> Timeline
    {
        get
        {
            lock (_lock)
                return _timeline.Snapshot();
        }
    }

    // ---- submission -------------------------------------------------------------------------

    public void Submit(TaskSpec spec) => Submit(spec, holder: null);

    /// <summary>
    /// Submits a task; <paramref name="holder"/> is the process it comes from when that is not this one
    /// (the result's first handle is counted as that process's).
    /// </summary>
    internal void Submit(TaskSpec spec, RefHolder? holder)
    {
        lock (_lock)
        {
            var (demand, shape, queueKey) = Shape(spec);
            var task = new TaskEntry(spec, demand, shape, queueKey);
            ThrowIfShutDown();
            var resultId = ObjectId.ForReturn(spec.Id);
            var result = Pending(resultId);
            if (spec.Kind != TaskKind.ActorCreation)
                CountNewHandle(resultId, result, holder); // the ref handed back to the caller
            _tasks[spec.Id] = task;
            PinContained(spec);
            switch (spec.Kind)
            {
                case TaskKind.ActorCreation:
                    CreateActor(task);
                    return;
                case TaskKind.ActorCall:
                    RouteActorCall(task);
                    return;
            }
            if (!_scheduler.IsFeasible(demand))
            {
                LogInfeasible(_log, spec.DisplayName, task.Shape, _scheduler.Total.ToString());
                Fail(task, ErrorInfo.Of(ErrorKind.Unschedulable, Unschedulable($"Task '{spec.DisplayName}'", task.Shape, "TaskOptions"), spec.DisplayName));
                return;
            }
            foreach (var arg in spec.Args)
            {
                foreach (var id in arg.Refs ?? [])
                {
                    if (!_objects.ContainsKey(id))
                    {
                        Fail(task, UnknownObject(id, spec.DisplayName)); // before any ref is pinned or waited on
                        return;
                    }
                }
            }
            task.RefArgsPinned = true;
            foreach (var arg in spec.Args)
            {
                if (arg.Refs is null)
                    continue;
                foreach (var id in arg.Refs)
                {
                    var dependency = _objects[id];
                    dependency.ArgUses++;
                    if (!dependency.Ready)
                    {
                        (dependency.Dependents ??= []).Add(task);
                        task.PendingDeps++;
                    }
                }
            }
            if (task.PendingDeps == 0)
                Enqueue(task);
            Dispatch();
        }
    }

    private readonly Dictionary<(JobId, double, long), (ResourceSet, string, string)> _shapes = [];

    /// <summary>The demand of a task, its text and its queue key; shared by every task of the same job and shape (no custom resources).</summary>
    private (ResourceSet Demand, string Shape, string QueueKey) Shape(TaskSpec spec)
    {
        var r = spec.Resources;
        if (r.Custom is { Count: > 0 })
        {
            var custom = ResourceSet.Of(r);
            var text = custom.ToString();
            return (custom, text, $"{spec.Id.Job} {text}");
        }
        var key = (spec.Id.Job, r.Cpus, r.MemoryBytes);
        if (!_shapes.TryGetValue(key, out var known))
        {
            var demand = ResourceSet.Of(r);
            var text = demand.ToString();
            _shapes[key] = known = (demand, text, $"{spec.Id.Job} {text}");
        }
        return known;
    }

    /// <summary>The one message for a task or an actor whose resource request no node can ever meet.</summary>
    private string Unschedulable(string what, string shape, string options) =>
        $"{what} is unschedulable: it asks for {shape} but this node has {_scheduler.Total} in total and no other node can take it. " +
        $"Lower its {options} resources or start the cluster with more (RayOptions.NumCpus/Resources, raysharp start --num-cpus/--resources).";

    private static ErrorInfo UnknownObject(ObjectId id, string taskName) => ErrorInfo.Of(ErrorKind.ObjectLost,
        $"Object {id} is not known to this node: it was freed after its last reference was dropped, or it comes from another cluster. " +
        "Keep an ObjectRef alive while tasks still need it.", taskName);

    private ObjectEntry Pending(ObjectId id)
    {
        if (!_objects.TryGetValue(id, out var entry))
        {
            entry = new ObjectEntry { Location = Node };
            _objects[id] = entry;
        }
        return entry;
    }

    private void Enqueue(TaskEntry task, bool first = false)
    {
        if (!_ready.TryGetValue(task.QueueKey, out var queue))
            _ready[task.QueueKey] = queue = new ReadyQueue<TaskEntry>();
        if (first)
            queue.PushFront(task);
        else
            queue.Enqueue(task);
        _readyCount++;
    }

    /// <summary>
    /// Sends ready tasks to workers while resources and pipeline slots allow, then lets idle workers steal
    /// specs still queued in busy ones.
    /// </summary>
    private void Dispatch()
    {
        if (_readyCount > 0)
            DispatchReady();
        if (_unstarted > 0)
            StealForIdleWorkers();
    }

    private void DispatchReady()
    {
        TaskEntry? starved = null;
        foreach (var (shape, queue) in _ready)
        {
            while (queue.Count > 0)
            {
                var next = queue.Peek();
                if (next.Cancelled)
                {
                    queue.Dequeue();
                    _readyCount--;
                    continue;
                }
                var worker = PickWorker(next.Demand, shape, next.Job);
                if (worker is null)
                {
                    starved ??= next;
                    break;
                }
                queue.Dequeue();
                _readyCount--;
                SendTask(worker, next);
            }
        }
        if (starved is not null && _scheduler.Available.Covers(starved.Demand))
            GrowPool(starved.Job);
    }

    private WorkerHandle? PickWorker(ResourceSet demand, string shape, JobId job)
    {
        WorkerHandle? best = null;
        foreach (var w in _taskWorkers)
        {
            if (w.LeaseShape == shape && w.ForceCancels == 0 && w.Running.Count < PipelineDepth && (best is null || w.Running.Count < best.Running.Count))
                best = w;
        }
        if (best is { Running.Count: 0 })
            return best;
        foreach (var w in _taskWorkers)
        {
            if (w.Lease is null && w.Job == job && w.ForceCancels == 0)
            {
                if (!_scheduler.TryAcquire(demand))
                    break;
                w.Lease = demand;
                w.LeaseShape = shape;
                return w;
            }
        }
        return best;
    }

    /// <summary>
    /// For each busy worker with specs waiting in its queue while the resources of its lease are free: if a
    /// worker of its job is idle (and not already the target of another steal), asks the busy worker to hand
    /// back the older half of its queue; if none is idle, starts one (as for a starved ready queue). The specs
    /// come back in <see cref="OnTasksReturned"/>, go first in the ready queue and are dispatched as usual, so
    /// the idle worker leases itself for them. The worker decides under its own lock what it hands back, so a
    /// spec that has started is never handed back and none runs twice.
    /// </summary>
    private void StealForIdleWorkers()
    {
        JobId? starved = null;
        foreach (var victim in _taskWorkers)
        {
            if (victim.Unstarted == 0 || victim.Stealing || victim.NothingToSteal || victim.Lease is not { } lease || !_scheduler.Available.Covers(lease))
                continue;
            int idle = 0, stealing = 0;
            foreach (var w in _taskWorkers)
            {
                if (w.Job != victim.Job)
                    continue;
                if (w.Lease is null && w.Running.Count == 0 && w.ForceCancels == 0)
                    idle++;
                if (w.Stealing)
                    stealing++;
            }
            if (idle > stealing)
            {
                victim.Stealing = true;
                victim.SentAtSteal = victim.Sent;
                victim.Link!.Send(new StealTasks());
            }
            else if (idle == 0)
            {
                starved ??= victim.Job;
            }
        }
        if (starved is { } job)
            GrowPool(job); // after the loop: a local-mode worker joins _taskWorkers at once
    }

    private void SendTask(WorkerHandle worker, TaskEntry task)
    {
        var spec = task.Spec;
        var values = new byte[]?[spec.Args.Length];
        ObjectId[]? storeArgs = null;
        for (var i = 0; i < values.Length; i++)
        {
            var arg = spec.Args[i];
            if (arg.Inline is not null)
            {
                values[i] = arg.Inline;
                continue;
            }
            var refs = arg.Refs!;
            byte[][]? parts = new byte[refs.Length][];
            for (var j = 0; j < refs.Length; j++)
            {
                if (!_objects.TryGetValue(refs[j], out var entry) || !entry.Ready)
                {
                    Fail(task, UnknownObject(refs[j], spec.DisplayName));
                    ReleaseIfIdle(worker);
                    return;
                }
                if (entry.Error is not null)
                {
                    Fail(task, entry.Error);
                    ReleaseIfIdle(worker);
                    return;
                }
                if (entry.InStore && !arg.Gather)
                {
                    (storeArgs ??= new ObjectId[values.Length])[i] = refs[j];
                    parts = null;
                    break;
                }
                if (entry.InStore && !TryReadPacked(refs[j], out parts[j]))
                {
                    Fail(task, ErrorInfo.Of(ErrorKind.System,
                        $"Argument {i + 1} of '{spec.DisplayName}' gathers refs to large raw arrays; pass each large array as its own argument instead.", spec.DisplayName));
                    ReleaseIfIdle(worker);
                    return;
                }
                parts[j] ??= entry.Data ?? [0xc0];
            }
            values[i] = parts is null ? null : arg.Gather ? RaySerializer.ConcatArray(parts) : parts[0];
        }
        // The worker starts its tasks in arrival order: first in its order, the spec runs at once;
        // otherwise it waits in the worker's queue until the tasks before it end (or it is handed back).
        task.Worker = worker;
        task.OrderNode = worker.Order.AddLast(task);
        task.Started = worker.Order.Count == 1;
        task.StartedTimestamp = Stopwatch.GetTimestamp();
        if (!task.Started)
        {
            worker.Unstarted++;
            _unstarted++;
        }
        worker.Sent++;
        worker.NothingToSteal = false;
        worker.Running[spec.Id] = task;
        worker.Link!.Send(new Execute { Spec = spec, ArgValues = values, StoreArgs = storeArgs });
    }

    /// <summary>The node counts <paramref name="task"/> as running from now on.</summary>
    private void MarkStarted(WorkerHandle worker, TaskEntry task)
    {
        if (task.Started)
            return;
        task.Started = true;
        task.StartedTimestamp = Stopwatch.GetTimestamp();
        worker.Unstarted--;
        _unstarted--;
    }

    /// <summary>
    /// <paramref name="task"/> left <paramref name="worker"/> (finished, handed back or lost with it). If it
    /// was the oldest there, the next one in order is the one the worker runs now.
    /// </summary>
    private void Unassign(WorkerHandle worker, TaskEntry task)
    {
        if (!task.Started)
        {
            worker.Unstarted--;
            _unstarted--;
        }
        task.Worker = null;
        if (task.OrderNode is not { } node)
            return;
        var wasFirst = worker.Order.First == node;
        worker.Order.Remove(node);
        task.OrderNode = null;
        if (wasFirst && worker.Order.First is { } next)
            MarkStarted(worker, next.Value);
    }

    /// <summary>Reads a MessagePack-layout store object's bytes (for gathering into an array argument).</summary>
    private bool TryReadPacked(ObjectId id, out byte[] bytes)
    {
        using var view = Store.GetAsync(id).AsTask().GetAwaiter().GetResult();
        bytes = view.Metadata.Span[0] == 0 ? view.Data.ToArray() : [];
        return bytes.Length > 0;
    }

    // ---- results ----------------------------------------------------------------------------

    /// <summary>A message from a worker about its tasks: a result, a start it reports, or tasks it hands back.</summary>
    internal void OnWorkerMessage(WorkerHandle worker, Message message)
    {
        switch (message)
        {
            case TaskResult result:
                OnTaskResult(worker, result);
                break;
            case TaskStarted started:
                lock (_lock)
                {
                    if (worker.Running.TryGetValue(started.Task, out var task))
                        MarkStarted(worker, task);
                }
                break;
            case TasksReturned returned:
                OnTasksReturned(worker, returned);
                break;
        }
    }

    private void OnTaskResult(WorkerHandle worker, TaskResult result)
    {
        lock (_lock)
        {
            if (!worker.Running.Remove(result.Task, out var task))
                return;
            Unassign(worker, task);
            _timeline.Add(new TimelineEvent(task.Spec.DisplayName, task.Spec.Id, worker.Link?.Pid ?? 0, task.StartedTimestamp, Stopwatch.GetTimestamp(), result.Error is not null));
            if (result.Contained is { } contained)
                SetContains(ObjectId.ForReturn(result.Task), contained); // before the arguments (which may hold the same refs) are released
            if (_tasks.Remove(result.Task))
            {
                ReleaseArguments(task); // not again for a task already failed (cancelled) whose worker answered anyway
                if (task.Spec.Kind == TaskKind.Normal)
                    _ended.Add(new EndedTask(task.Spec.Id, task.Spec.DisplayName, result.Error is null ? TaskStates.Finished : TaskStates.Failed, worker.Link?.Pid ?? 0));
            }
            if (task.Spec.Kind == TaskKind.ActorCreation)
                OnActorCreated(worker, task, result.Error);
            Complete(ObjectId.ForReturn(result.Task), result.Value, result.Error, result.InStore);
            ReleaseIfIdle(worker);
            Dispatch();
        }
    }

    /// <summary>
    /// A worker handed back specs it had not started (stolen for an idle worker, or cancelled): they go
    /// first in their ready queue again unless cancelled. A forced cancel that found its task running ends
    /// the worker's process once its other queued specs are back.
    /// </summary>
    private void OnTasksReturned(WorkerHandle worker, TasksReturned returned)
    {
        lock (_lock)
        {
            for (var i = returned.Tasks.Length - 1; i >= 0; i--)
            {
                if (!worker.Running.Remove(returned.Tasks[i], out var task))
                    continue;
                Unassign(worker, task);
                if (!task.Cancelled)
                    Enqueue(task, first: true);
            }
            switch (returned.Reason)
            {
                case ReturnReason.Stolen:
                    worker.Stealing = false;
                    worker.NothingToSteal = returned.StillQueued == 0 && worker.Sent == worker.SentAtSteal;
                    break;
                case ReturnReason.ForceCancelled when returned.EndProcess:
                    worker.Link?.Kill(); // its ForceCancels stays up: nothing more is sent to it before its death is seen
                    break;
                case ReturnReason.ForceCancelled:
                    worker.ForceCancels--;
                    break;
            }
            ReleaseIfIdle(worker);
            Dispatch();
        }
    }

    private void ReleaseIfIdle(WorkerHandle worker)
    {
        if (worker.Running.Count > 0 || worker.Lease is null)
            return;
        if (!worker.LeaseLent)
            _scheduler.Release(worker.Lease);
        worker.Lease = null;
        worker.LeaseShape = null;
        worker.LeaseLent = false;
        worker.Blocked = 0;
    }

    private void Fail(TaskEntry task, ErrorInfo error)
    {
        if (_tasks.Remove(task.Spec.Id))
        {
            ReleaseArguments(task);
            if (task.Spec.Kind == TaskKind.Normal)
                _ended.Add(new EndedTask(task.Spec.Id, task.Spec.DisplayName, error.Kind == ErrorKind.Cancelled ? TaskStates.Cancelled : TaskStates.Failed, task.Worker?.Link?.Pid ?? 0));
        }
        Complete(ObjectId.ForReturn(task.Spec.Id), null, error);
    }

    private void Complete(ObjectId id, byte[]? data, ErrorInfo? error, bool inStore = false)
    {
        var entry = Pending(id);
        if (entry.Ready)
        {
            if (inStore)
                ObjectStore.Delete(id); // a late duplicate (a retried or cancelled task's result)
            return;
        }
        entry.Ready = true;
        entry.Data = data;
        entry.Error = error;
        entry.InStore = inStore;
        if (entry.Waiters is { } waiters)
        {
            entry.Waiters = null;
            foreach (var w in waiters)
                w.OneReady();
        }
        if (entry.Dependents is { } dependents)
        {
            entry.Dependents = null;
            foreach (var t in dependents)
            {
                if (--t.PendingDeps == 0 && !t.Cancelled)
                    Enqueue(t);
            }
        }
        FreeIfUnreachable(id, entry);
    }

    public void Cancel(ObjectId id, bool force)
    {
        lock (_lock)
        {
            if (!_tasks.TryGetValue(id.Task, out var task) || task.Spec.Kind != TaskKind.Normal)
                return;
            task.Cancelled = true;
            task.RetriesLeft = 0;
            var error = ErrorInfo.Of(ErrorKind.Cancelled, $"Task '{task.Spec.DisplayName}' ({task.Spec.Id}) was cancelled before it produced a value.", task.Spec.DisplayName);
            if (task.Worker is { } worker)
            {
                // The worker decides: a spec still in its queue is handed back and never runs; a running one
                // gets its token cancelled or, forced, the worker's process is ended (its other queued specs
                // handed back first, so only the process running this task dies). No spec goes to a worker
                // with a forced cancel in flight.
                if (force)
                    worker.ForceCancels++;
                worker.Link?.Send(new CancelTask { Task = task.Spec.Id, Force = force });
            }
            Fail(task, error);
        }
    }

    public int ObjectCount
    {
        get
        {
            lock (_lock)
                return _objects.Count;
        }
    }

    private void ThrowIfShutDown()
    {
        if (_shutDown)
            throw new ObjectDisposedException(nameof(Ray), "This Ray instance was shut down (disposed); its objects, tasks and actors are gone. Call Ray.InitAsync again.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Task} asks for {Demand}, more than this node has ({Total}); failing it as unschedulable.")]
    private static partial void LogInfeasible(ILogger logger, string task, string demand, string total);
}
