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
    /// <summary>How many task specs a leased worker may have queued at once (pipelining).</summary>
    private const int PipelineDepth = 32;

    private readonly object _lock = new();
    private readonly Dictionary<ObjectId, ObjectEntry> _objects = [];
    private readonly Dictionary<TaskId, TaskEntry> _tasks = [];
    private readonly Dictionary<string, Queue<TaskEntry>> _ready = new(StringComparer.Ordinal);
    private readonly LocalScheduler _scheduler;
    private readonly ILogger _log;
    private readonly TimelineRecorder _timeline = new();
    /// <summary>The node's start on its monotonic clock and on the wall clock: timeline times are wall-clock microseconds.</summary>
    private readonly (long Timestamp, long UnixMicroseconds) _clockOrigin = (Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
    private int _readyCount;
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

    private void Enqueue(TaskEntry task)
    {
        if (!_ready.TryGetValue(task.QueueKey, out var queue))
            _ready[task.QueueKey] = queue = new Queue<TaskEntry>();
        queue.Enqueue(task);
        _readyCount++;
    }

    /// <summary>Sends ready tasks to workers while resources and pipeline slots allow.</summary>
    private void Dispatch()
    {
        if (_readyCount == 0)
            return;
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
            if (w.LeaseShape == shape && w.Running.Count < PipelineDepth && (best is null || w.Running.Count < best.Running.Count))
                best = w;
        }
        if (best is { Running.Count: 0 })
            return best;
        foreach (var w in _taskWorkers)
        {
            if (w.Lease is null && w.Job == job)
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
        task.Worker = worker;
        task.StartedTimestamp = Stopwatch.GetTimestamp();
        worker.Running[spec.Id] = task;
        worker.Link!.Send(new Execute { Spec = spec, ArgValues = values, StoreArgs = storeArgs });
    }

    /// <summary>Reads a MessagePack-layout store object's bytes (for gathering into an array argument).</summary>
    private bool TryReadPacked(ObjectId id, out byte[] bytes)
    {
        using var view = Store.GetAsync(id).AsTask().GetAwaiter().GetResult();
        bytes = view.Metadata.Span[0] == 0 ? view.Data.ToArray() : [];
        return bytes.Length > 0;
    }

    // ---- results ----------------------------------------------------------------------------

    internal void OnTaskResult(WorkerHandle worker, TaskResult result)
    {
        lock (_lock)
        {
            if (!worker.Running.Remove(result.Task, out var task))
                return;
            _timeline.Add(new TimelineEvent(task.Spec.DisplayName, task.Spec.Id, worker.Link?.Pid ?? 0, task.StartedTimestamp, Stopwatch.GetTimestamp(), result.Error is not null));
            if (result.Contained is { } contained)
                SetContains(ObjectId.ForReturn(result.Task), contained); // before the arguments (which may hold the same refs) are released
            if (_tasks.Remove(result.Task))
                ReleaseArguments(task); // not again for a task already failed (cancelled) whose worker answered anyway
            if (task.Spec.Kind == TaskKind.ActorCreation)
                OnActorCreated(worker, task, result.Error);
            Complete(ObjectId.ForReturn(result.Task), result.Value, result.Error, result.InStore);
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
            ReleaseArguments(task);
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
                if (force)
                    worker.Link?.Kill();
                else
                    worker.Link?.Send(new CancelTask { Task = task.Spec.Id });
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
