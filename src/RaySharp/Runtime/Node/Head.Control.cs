using System.Diagnostics;
using RaySharp.Control;
using RaySharp.Protocol;
using RaySharp.Runtime.ControlStore;

namespace RaySharp.Runtime.Node;

/// <summary>Snapshots of the node's tables for the gRPC control service (<see cref="ControlService"/>), taken under the node lock.</summary>
internal sealed partial class Head
{
    /// <summary>Set by a standalone node (<see cref="RayNode"/>): what the control service's Shutdown does. Null for an embedded node.</summary>
    public Action? ShutdownRequested { get; set; }

    /// <summary>Completes when the control service listens (immediately in local mode); faults if it cannot.</summary>
    public Task ControlReady => _server?.ControlStarted ?? Task.CompletedTask;

    /// <summary>The data-plane socket (null in local mode).</summary>
    public string? DataSocketPath => _server?.SocketPath;

    /// <summary>What a driver needs to attach, and where the control service listens.</summary>
    public NodeInfo NodeInfo()
    {
        var info = new NodeInfo
        {
            NodeId = Node.ToString(),
            DataSocket = _server?.SocketPath ?? "",
            StoreDirectory = ObjectStore.Directory,
            Pid = Environment.ProcessId,
            Embedded = _inProcessRay is not null,
        };
        info.ControlAddresses.AddRange(_server?.ControlAddresses ?? []);
        return info;
    }

    public ClusterStatus ClusterStatus()
    {
        var node = new NodeStatus
        {
            NodeId = Node.ToString(),
            Pid = Environment.ProcessId,
            Embedded = _inProcessRay is not null,
        };
        node.ControlAddresses.AddRange(_server?.ControlAddresses ?? []);
        var store = ObjectStore.GetStats();
        node.ObjectStore = new ObjectStoreUsage
        {
            CapacityBytes = store.CapacityBytes,
            UsedBytes = store.UsedBytes,
            ObjectCount = store.ObjectCount,
            SpilledCount = store.SpilledCount,
            SpilledBytes = store.SpilledBytes,
            TotalSpills = store.TotalSpills,
        };
        lock (_lock)
        {
            foreach (var (name, total) in _scheduler.Total.Amounts.OrderBy(p => p.Key, StringComparer.Ordinal))
                node.Resources.Add(new Resource { Name = name, Total = total, Available = _scheduler.Available[name] });
            foreach (var w in _workers.Values.OrderBy(w => w.Id))
            {
                var info = new WorkerInfo
                {
                    Id = w.Id,
                    Pid = WorkerPid(w),
                    Kind = w.Actor is null ? "task" : "actor",
                    State = w.Registered ? (w.Running.Count > 0 ? "busy" : "idle") : "starting",
                    JobId = w.Job.ToString(),
                };
                info.Running.AddRange(w.Running.Values.Where(t => t.Started).Select(t => t.Spec.DisplayName).Take(16));
                info.Queued.AddRange(w.Running.Values.Where(t => !t.Started).Select(t => t.Spec.DisplayName).Take(16));
                node.Workers.Add(info);
            }
            long inline = 0;
            foreach (var o in _objects.Values)
                inline += o.Data?.Length ?? 0;
            node.ObjectCount = _objects.Count;
            node.InlineObjectBytes = inline;
            node.TaskCount = _tasks.Values.Count(t => t.Spec.Kind == TaskKind.Normal);
            var tasks = new TaskCounts { Ended = _ended.Total };
            foreach (var t in _tasks.Values)
            {
                if (t.Spec.Kind != TaskKind.Normal)
                    continue;
                switch (StateOf(t))
                {
                    case TaskStates.WaitingForArguments: tasks.WaitingForArguments++; break;
                    case TaskStates.Queued: tasks.Queued++; break;
                    case TaskStates.QueuedOnWorker: tasks.QueuedOnWorker++; break;
                    default: tasks.Running++; break;
                }
            }
            node.Tasks = tasks;
            node.ActorCount = _actors.Values.Count(a => a.State != ActorState.Dead);
            node.JobCount = ControlStore.Scan(Tables.Jobs).Count;
        }
        var status = new ClusterStatus();
        status.Nodes.Add(node);
        return status;
    }

    /// <summary>Unfinished tasks first, then the last ones that ended (newest first), <paramref name="limit"/> rows in all.</summary>
    public TaskList ListTasks(int limit)
    {
        var list = new TaskList();
        lock (_lock)
        {
            var tasks = _tasks.Values.Where(t => t.Spec.Kind == TaskKind.Normal).ToList();
            list.Total = tasks.Count + _ended.Count;
            foreach (var t in tasks.Take(limit))
            {
                list.Tasks.Add(new TaskInfo
                {
                    TaskId = t.Spec.Id.ToString(),
                    Name = t.Spec.DisplayName,
                    State = StateOf(t),
                    WorkerPid = t.Worker is { } w ? WorkerPid(w) : 0,
                });
            }
            foreach (var e in _ended.Newest().Take(limit - list.Tasks.Count))
                list.Tasks.Add(new TaskInfo { TaskId = e.Task.ToString(), Name = e.Name, State = e.State, WorkerPid = e.WorkerPid });
        }
        return list;
    }

    /// <summary>The state of an unfinished task, as <see cref="TaskStates"/> names it.</summary>
    private static string StateOf(TaskEntry t) =>
        t.Worker is not null ? (t.Started ? TaskStates.Running : TaskStates.QueuedOnWorker)
        : t.PendingDeps > 0 ? TaskStates.WaitingForArguments
        : TaskStates.Queued;

    public ActorList ListActors()
    {
        var list = new ActorList();
        lock (_lock)
        {
            foreach (var a in _actors.Values)
                list.Actors.Add(Describe(a));
        }
        return list;
    }

    public ObjectList ListObjects(int limit)
    {
        var list = new ObjectList();
        lock (_lock)
        {
            list.Total = _objects.Count;
            foreach (var (id, o) in _objects.Take(limit))
            {
                list.Objects.Add(new ObjectInfo
                {
                    ObjectId = id.ToString(),
                    State = !o.Ready ? "pending" : o.Error is null ? "ready" : "error",
                    InlineBytes = o.Data?.Length ?? 0,
                    InStore = o.InStore,
                    Location = o.Location.ToString(),
                });
            }
        }
        return list;
    }

    public Control.Timeline TimelineEvents()
    {
        var timeline = new Control.Timeline { NodeId = Node.ToString() };
        foreach (var e in Timeline)
        {
            timeline.Events.Add(new Control.TimelineEvent
            {
                Name = e.Name,
                TaskId = e.Task.ToString(),
                WorkerPid = e.Pid,
                StartUs = UnixMicroseconds(e.StartTimestamp),
                DurationUs = Stopwatch.GetElapsedTime(e.StartTimestamp, e.EndTimestamp).TotalMicroseconds,
                Failed = e.Failed,
            });
        }
        return timeline;
    }

    /// <summary>The live actor named <paramref name="name"/>, or null.</summary>
    public ActorInfo? NamedActor(string name)
    {
        lock (_lock)
            return _named.TryGetValue(name, out var actor) && actor.State != ActorState.Dead ? Describe(actor) : null;
    }

    /// <summary>Kills the live actor with this name or id text; null when there is none.</summary>
    public ActorInfo? KillActor(string? name, string? idText, bool allowRestart)
    {
        ActorEntry? actor;
        lock (_lock)
        {
            actor = name is not null
                ? _named.GetValueOrDefault(name)
                : _actors.Values.FirstOrDefault(a => a.Id.ToString() == idText);
            if (actor is null || actor.State == ActorState.Dead)
                return null;
        }
        KillActor(actor.Id, noRestart: !allowRestart);
        lock (_lock)
            return Describe(actor);
    }

    private static ActorInfo Describe(ActorEntry a) => new()
    {
        ActorId = a.Id.ToString(),
        Name = a.Name ?? "",
        TypeName = a.TypeName,
        State = a.State.ToString(),
        Restarts = a.Restarts,
        Pid = a.Worker is { } w ? WorkerPid(w) : 0,
        JobId = a.Id.Job.ToString(),
        DeathReason = a.DeathReason ?? "",
        Detached = a.Creation.Detached,
    };

    private static int WorkerPid(WorkerHandle w) => w.Link?.Pid ?? SafePid(w.Process);

    private static int SafePid(Process? process)
    {
        try
        {
            return process?.Id ?? 0;
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }
}
