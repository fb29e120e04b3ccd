using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RaySharp.Protocol;
using RaySharp.Runtime.ControlStore;

namespace RaySharp.Runtime.Node;

internal sealed partial class Head
{
    private const int MaxStartFailures = 3;

    private readonly Dictionary<ulong, WorkerHandle> _workers = [];
    private readonly List<WorkerHandle> _taskWorkers = [];
    private NodeServer? _server;
    private Ray? _inProcessRay;
    private string? _sessionDirectory;
    private readonly Dictionary<JobId, WorkerCommand> _jobs = [];
    private int _startFailures;
    private ulong _nextWorkerId;
    private string? _lastStartFailure;

    /// <summary>Most task workers the pool grows to while tasks are blocked in Get.</summary>
    private int MaxTaskWorkers => NumCpus * 4 + 4;

    /// <summary>Starts the node's socket (unless local mode) and pre-starts one task worker per CPU.</summary>
    /// <param name="driver">The driver in this process (its job gets pre-started workers), or null for a standalone node.</param>
    public void Start(Ray? driver)
    {
        _inProcessRay = driver;
        if (!LocalMode)
        {
            var root = RuntimeDirectory.Resolve();
            foreach (var stale in RuntimeDirectory.RemoveStaleSessions(root))
                LogStaleSessionRemoved(_log, stale);
            _sessionDirectory = Path.Combine(root, RuntimeDirectory.SessionName(Environment.ProcessId, Node.Value));
            Directory.CreateDirectory(_sessionDirectory); // private: inside the 0700 runtime folder
            _server = new NodeServer(this, Path.Combine(_sessionDirectory, "node.sock"), _log);
            _server.Start();
        }
        if (driver is null)
            return;
        lock (_lock)
        {
            if (!LocalMode)
                _jobs[Job] = WorkerLauncher.ForThisApplication();
            for (var i = 0; i < NumCpus; i++)
                StartWorker(Job, actor: null);
        }
    }

    /// <summary>Records how to start workers for a job whose driver attached over the socket.</summary>
    internal void RegisterJob(JobId job, WorkerCommand command)
    {
        lock (_lock)
        {
            _jobs[job] = command;
            ControlStore.Put(Tables.Jobs, job.ToString(), $"{{\"app\": \"{command.RuntimeConfig}\"}}");
        }
    }

    private int StartingTaskWorkers(JobId job)
    {
        var count = 0;
        foreach (var w in _workers.Values)
        {
            if (w.Job == job && w.Actor is null && !w.Registered && !w.Dead)
                count++;
        }
        return count;
    }

    private int TaskWorkers(JobId job) => _taskWorkers.Count(w => w.Job == job) + StartingTaskWorkers(job);

    private WorkerHandle StartWorker(JobId job, ActorEntry? actor)
    {
        var worker = new WorkerHandle(++_nextWorkerId, job) { Actor = actor };
        _workers[worker.Id] = worker;
        if (LocalMode)
        {
            OnRegistered(worker, new InProcessWorkerLink(this, worker, _inProcessRay!));
            return worker;
        }
        try
        {
            if (!_jobs.TryGetValue(job, out var command))
                throw new InvalidOperationException($"job {job} did not say how to start its workers (its driver could not find its own runtimeconfig.json and deps.json)");
            worker.Process = WorkerLauncher.Start(command, _server!.SocketPath, worker.Id);
            worker.Process.EnableRaisingEvents = true;
            worker.Process.Exited += (_, _) => OnWorkerDied(worker, $"its process exited with code {SafeExitCode(worker.Process)}");
            if (worker.Process.HasExited)
                OnWorkerDied(worker, $"its process exited with code {SafeExitCode(worker.Process)}");
            _ = WatchStartAsync(worker);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or FileNotFoundException)
        {
            _lastStartFailure = e.Message;
            LogWorkerStartFailed(_log, e.Message);
            OnWorkerDied(worker, e.Message);
        }
        return worker;
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "unknown";
        }
    }

    private async Task WatchStartAsync(WorkerHandle worker)
    {
        await Task.Delay(Options.WorkerStartTimeout).ConfigureAwait(false);
        bool late;
        lock (_lock)
            late = !worker.Registered && !worker.Dead && !_shutDown;
        if (late)
        {
            _lastStartFailure = $"a worker process did not connect within {Options.WorkerStartTimeout.TotalSeconds:0} s";
            KillProcess(worker);
            OnWorkerDied(worker, _lastStartFailure);
        }
    }

    internal WorkerHandle? FindStartingWorker(ulong id)
    {
        lock (_lock)
            return _workers.TryGetValue(id, out var w) && !w.Registered && !w.Dead ? w : null;
    }

    internal void OnRegistered(WorkerHandle worker, IWorkerLink link)
    {
        lock (_lock)
        {
            if (worker.Dead || _shutDown)
            {
                link.Kill();
                return;
            }
            worker.Link = link;
            _startFailures = 0;
            if (worker.Actor is { } actor)
            {
                if (actor.Worker == worker && actor.State != ActorState.Dead)
                    SendCreation(actor);
                else
                    link.Kill();
                return;
            }
            _taskWorkers.Add(worker);
            PlaceWaitingActors();
            Dispatch();
        }
    }

    /// <summary>An idle pooled worker for an actor (a replacement joins the pool), or null.</summary>
    private WorkerHandle? TakeIdleWorker(JobId job)
    {
        var idle = _taskWorkers.FindIndex(w => w.Job == job && w.Lease is null && w.Running.Count == 0);
        if (idle < 0)
            return null;
        var worker = _taskWorkers[idle];
        _taskWorkers.RemoveAt(idle);
        StartWorker(job, actor: null);
        return worker;
    }

    private void GrowPool(JobId job)
    {
        if (_shutDown || StartingTaskWorkers(job) > 0 || TaskWorkers(job) >= MaxTaskWorkers)
            return;
        if (!LocalMode && !_jobs.ContainsKey(job))
        {
            FailEverythingQueued(job, $"the node cannot start workers for job {job}: its driver did not say where its application is " +
                "(it could not find its own <app>.runtimeconfig.json and deps.json). Run the driver from its build output.");
            return;
        }
        if (_startFailures >= MaxStartFailures)
        {
            FailEverythingQueued(job, $"worker processes fail to start ({_lastStartFailure}).");
            return;
        }
        StartWorker(job, actor: null);
    }

    internal void OnWorkerDied(WorkerHandle worker, string reason)
    {
        lock (_lock)
        {
            if (worker.Dead)
                return;
            worker.Dead = true;
            _workers.Remove(worker.Id);
            _taskWorkers.Remove(worker);
            if (worker.Lease is not null && !worker.LeaseLent)
                _scheduler.Release(worker.Lease);
            worker.Lease = null;
            if (_shutDown)
                return;
            var pid = worker.Link?.Pid ?? worker.Process?.Id ?? 0;
            if (worker.Registered)
                LogWorkerDied(_log, pid, reason);
            if (worker.Actor is { } actor && actor.Worker == worker)
            {
                OnActorWorkerDied(actor, worker, reason);
            }
            else
            {
                foreach (var task in worker.Running.Values)
                {
                    Unassign(worker, task);
                    if (task.Cancelled)
                        continue;
                    if (task.RetriesLeft > 0)
                    {
                        task.RetriesLeft--;
                        Enqueue(task);
                        continue;
                    }
                    Fail(task, ErrorInfo.Of(ErrorKind.WorkerCrashed,
                        $"The worker process (pid {pid}) running task '{task.Spec.DisplayName}' ({task.Spec.Id}) died: {reason}. " +
                        $"The task was run {task.Spec.MaxRetries + 1} time(s) (MaxRetries = {task.Spec.MaxRetries}). Raise MaxRetries if the " +
                        "crash is transient, or look at the worker's output for the cause.", task.Spec.DisplayName));
                }
                worker.Running.Clear();
            }
            if (!worker.Registered)
            {
                _lastStartFailure ??= reason;
                if (++_startFailures >= MaxStartFailures)
                    FailEverythingQueued(worker.Job, $"worker processes fail to start ({_lastStartFailure}). Check that the application was built and runs from its output folder.");
            }
            if (worker.Actor is null && worker.Job == Job && _inProcessRay is not null && TaskWorkers(Job) < NumCpus && _startFailures < MaxStartFailures)
                StartWorker(Job, actor: null);
            PlaceWaitingActors();
            Dispatch();
        }
    }

    /// <summary>
    /// An attached driver disconnected: its job is over. Its job-scoped actors are killed, its task workers
    /// stopped, its queued tasks failed and its objects freed (as Ray does for a job's non-detached state).
    /// Its detached actors live on: the job keeps its worker command (to restart them or run the tasks they
    /// submit) and its objects are left to reference counting, since a detached actor may hold them.
    /// </summary>
    internal void OnDriverExited(JobId job)
    {
        lock (_lock)
        {
            if (_shutDown || !_jobs.TryGetValue(job, out var command))
                return;
            _jobs.Remove(job);
            var detached = false;
            foreach (var actor in _actors.Values.Where(a => a.Id.Job == job && a.State != ActorState.Dead).ToList())
            {
                if (actor.Creation.Detached)
                {
                    detached = true;
                    continue;
                }
                MarkDead(actor, $"its driver (job {job}) exited");
                actor.Worker?.Link?.Kill();
            }
            foreach (var worker in _taskWorkers.Where(w => w.Job == job).ToList())
                worker.Link?.Kill();
            FailEverythingQueued(job, $"its driver (job {job}) exited");
            if (detached)
            {
                _jobs[job] = command;
                return;
            }
            foreach (var (id, entry) in _objects.Where(p => p.Key.Task.Job == job && p.Value.Ready).ToList())
            {
                _objects.Remove(id);
                if (entry.InStore)
                    ObjectStore.Delete(id);
            }
            ControlStore.Delete(Tables.Jobs, job.ToString());
        }
    }

    private void FailEverythingQueued(JobId job, string why)
    {
        foreach (var queue in _ready.Values)
        {
            if (queue.Count == 0 || queue.Peek().Job != job)
                continue;
            while (queue.Count > 0)
            {
                var task = queue.Dequeue();
                _readyCount--;
                Fail(task, ErrorInfo.Of(ErrorKind.System, $"Task '{task.Spec.DisplayName}' cannot run: {why}", task.Spec.DisplayName));
            }
        }
    }

    private static void KillProcess(WorkerHandle worker)
    {
        try
        {
            worker.Process?.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already exited.
        }
    }

    public ValueTask<Control.ClusterStatus> StatusAsync(CancellationToken cancellationToken) => ValueTask.FromResult(ClusterStatus());

    public ValueTask<string> TimelineAsync(CancellationToken cancellationToken)
    {
        var events = Timeline.Select(e => new
        {
            name = e.Name,
            cat = e.Failed ? "failed" : "task",
            ph = "X",
            ts = UnixMicroseconds(e.StartTimestamp),
            dur = Stopwatch.GetElapsedTime(e.StartTimestamp, e.EndTimestamp).TotalMicroseconds,
            pid = Node.ToString(),
            tid = e.Pid,
            args = new { task = e.Task.ToString() },
        }).ToArray();
        return ValueTask.FromResult(JsonSerializer.Serialize(new { traceEvents = events }));
    }

    public async ValueTask DisposeAsync()
    {
        List<WorkerHandle> workers;
        List<ObjectWaiter> waiters = [];
        lock (_lock)
        {
            if (_shutDown)
                return;
            _shutDown = true;
            workers = [.. _workers.Values];
            foreach (var o in _objects.Values)
            {
                if (o.Waiters is not null)
                    waiters.AddRange(o.Waiters);
            }
        }
        foreach (var w in waiters)
            w.Release();
        foreach (var w in workers)
        {
            if (w.Link is not null)
                w.Link.Kill();
            else
                KillProcess(w);
        }
        if (_server is not null)
            await _server.DisposeAsync().ConfigureAwait(false);
        foreach (var w in workers)
        {
            if (w.Process is { } p)
            {
                try
                {
                    await p.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Left behind; it exits when its socket closes.
                }
                p.Dispose();
            }
        }
        Store.Dispose();
        ObjectStore.Dispose();
        if (_sessionDirectory is not null)
        {
            try
            {
                Directory.Delete(_sessionDirectory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker pid {Pid} died: {Reason}")]
    private static partial void LogWorkerDied(ILogger logger, int pid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the session folder {Folder} of a node or driver that is gone")]
    private static partial void LogStaleSessionRemoved(ILogger logger, string folder);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not start a worker process: {Reason}")]
    private static partial void LogWorkerStartFailed(ILogger logger, string reason);
}
