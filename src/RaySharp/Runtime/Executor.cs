using System.Collections.Concurrent;
using System.Threading.Channels;
using RaySharp.ObjectStore;
using RaySharp.Protocol;

namespace RaySharp.Runtime;

/// <summary>What runs inside the current task: its id, its cancellation and its CPU slot.</summary>
internal sealed class TaskContext(TaskId id, Executor executor)
{
    private static readonly AsyncLocal<TaskContext?> CurrentContext = new();
    private int _cpuReleased;

    public static TaskContext? Current
    {
        get => CurrentContext.Value;
        set => CurrentContext.Value = value;
    }

    public TaskId Id { get; } = id;

    public CancellationTokenSource Cancellation { get; } = new();

    /// <summary>True when this task holds a CPU slot of its worker (normal tasks, not actor calls).</summary>
    public bool HoldsCpu { get; init; }

    /// <summary>
    /// Called when the task blocks waiting for objects: its worker's CPU slot goes to the next queued task
    /// (and the node lends the CPU out), so a graph of nested tasks cannot deadlock a node.
    /// </summary>
    public void ReleaseCpu()
    {
        if (HoldsCpu && Interlocked.Exchange(ref _cpuReleased, 1) == 0)
            executor.ReleaseCpu();
    }

    public bool CpuReleased => Volatile.Read(ref _cpuReleased) != 0;
}

/// <summary>
/// Runs what a node sends to one worker: normal tasks one at a time on the worker's CPU slot (a task
/// blocked in Get hands the slot to the next one), or the single actor this worker hosts, whose calls run
/// in arrival order (or up to MaxConcurrency at once for async actors). Results and reports go to
/// <c>reply</c>. Normal tasks wait in a queue that only this class's lock touches: taking a spec to run it
/// and handing specs back to the node (stolen for an idle worker, or cancelled) exclude each other, so a
/// spec handed back has not started and never will here.
/// </summary>
internal sealed class Executor : IDisposable
{
    private readonly Ray _ray;
    private readonly Action<Message> _reply;
    private readonly ObjectStoreClient<ObjectId> _store;
    private readonly object _queueLock = new();
    /// <summary>Normal tasks not started, in arrival order (under <see cref="_queueLock"/>).</summary>
    private readonly LinkedList<Execute> _queue = new();
    /// <summary>Normal tasks started and not finished (under <see cref="_queueLock"/>).</summary>
    private readonly HashSet<TaskId> _started = [];
    private bool _stopped;
    private readonly SemaphoreSlim _cpu = new(1, 1);
    private readonly ConcurrentDictionary<TaskId, TaskContext> _running = new();
    private readonly CancellationTokenSource _stop = new();
    private int _threadsWaitingForCpu;
    private int _threads;
    private ActorHost? _actor;

    public Executor(Ray ray, ObjectStoreClient<ObjectId> store, Action<Message> reply)
    {
        _ray = ray;
        _store = store;
        _reply = reply;
        StartThread();
    }

    /// <summary>Handles a message the node sends a worker: a task to run, a task to cancel or a steal; others are ignored.</summary>
    public void Receive(Message message)
    {
        switch (message)
        {
            case Execute execute:
                Accept(execute);
                break;
            case CancelTask cancel:
                Cancel(cancel);
                break;
            case StealTasks:
                HandBackOlderHalf();
                break;
        }
    }

    private void Accept(Execute execute)
    {
        switch (execute.Spec.Kind)
        {
            case TaskKind.Normal:
                lock (_queueLock)
                {
                    _queue.AddLast(execute);
                    Monitor.Pulse(_queueLock);
                }
                break;
            case TaskKind.ActorCreation:
                _actor = new ActorHost(this, execute.Spec.MaxConcurrency);
                _actor.Post(execute);
                break;
            case TaskKind.ActorCall:
                if (_actor is null)
                    Reply(new TaskResult { Task = execute.Spec.Id, Error = ErrorInfo.Of(ErrorKind.ActorDied, $"The worker meant for actor {execute.Spec.Actor} has no actor.") });
                else
                    _actor.Post(execute);
                break;
        }
    }

    /// <summary>
    /// A queued task is removed and handed back (it never runs). A running one has its token cancelled; forced,
    /// every queued task is handed back and the node is asked to end this process. A forced cancel is always
    /// answered, so the node knows when it may send this worker specs again.
    /// </summary>
    private void Cancel(CancelTask cancel)
    {
        var queued = false;
        var running = false;
        TaskId[] handedBack = [];
        int left;
        lock (_queueLock)
        {
            for (var node = _queue.First; node is not null; node = node.Next)
            {
                if (node.Value.Spec.Id == cancel.Task)
                {
                    _queue.Remove(node);
                    queued = true;
                    break;
                }
            }
            if (queued)
            {
                handedBack = [cancel.Task];
            }
            else if (cancel.Force && _started.Contains(cancel.Task))
            {
                running = true;
                handedBack = TakeFromQueue(_queue.Count);
            }
            left = _queue.Count;
        }
        if (queued || cancel.Force)
        {
            Reply(new TasksReturned
            {
                Tasks = handedBack,
                Reason = cancel.Force ? ReturnReason.ForceCancelled : ReturnReason.Cancelled,
                StillQueued = left,
                EndProcess = running,
            });
        }
        else if (_running.TryGetValue(cancel.Task, out var context))
        {
            context.Cancellation.Cancel();
        }
    }

    /// <summary>Hands the older half (rounded up) of the queued tasks back to the node, for an idle worker.</summary>
    private void HandBackOlderHalf()
    {
        TaskId[] stolen;
        int left;
        lock (_queueLock)
        {
            stolen = TakeFromQueue((_queue.Count + 1) / 2);
            left = _queue.Count;
        }
        Reply(new TasksReturned { Tasks = stolen, Reason = ReturnReason.Stolen, StillQueued = left });
    }

    /// <summary>Removes the first <paramref name="count"/> queued tasks; under <see cref="_queueLock"/>.</summary>
    private TaskId[] TakeFromQueue(int count)
    {
        var ids = new TaskId[count];
        for (var i = 0; i < count; i++)
        {
            ids[i] = _queue.First!.Value.Spec.Id;
            _queue.RemoveFirst();
        }
        return ids;
    }

    public void ReleaseCpu()
    {
        _cpu.Release();
        if (Volatile.Read(ref _threadsWaitingForCpu) == 0)
            StartThread();
    }

    private void StartThread()
    {
        var n = Interlocked.Increment(ref _threads);
        new Thread(TaskLoop) { IsBackground = true, Name = $"raysharp-task-{n}" }.Start();
    }

    /// <summary>
    /// A thread of the CPU slot: waits for the slot and a queued task, runs it, and while it keeps the slot
    /// goes on with the next queued task. A task that starts while an older one still runs (its slot was
    /// passed on by a task blocked in Get) is reported; the node infers every other start.
    /// </summary>
    private void TaskLoop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _threadsWaitingForCpu);
                try
                {
                    _cpu.Wait(_stop.Token);
                }
                finally
                {
                    Interlocked.Decrement(ref _threadsWaitingForCpu);
                }
                var (work, report) = WaitForTask();
                if (work is null)
                {
                    _cpu.Release();
                    return;
                }
                while (work is not null)
                {
                    if (report)
                        Reply(new TaskStarted { Task = work.Spec.Id }); // before its result, from this thread
                    var context = new TaskContext(work.Spec.Id, this) { HoldsCpu = true };
                    var result = RunAsync(work, context, instance: null).AsTask().GetAwaiter().GetResult();
                    Execute? next = null;
                    lock (_queueLock)
                    {
                        _started.Remove(work.Spec.Id);
                        if (!context.CpuReleased && _queue.First is not null)
                            (next, report) = Start();
                    }
                    Reply(result);
                    if (next is null && !context.CpuReleased)
                        _cpu.Release();
                    work = next;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Worker shutting down.
        }
    }

    /// <summary>Takes the oldest queued task (it has started from here on), waiting for one; null when the worker stops.</summary>
    private (Execute? Work, bool Report) WaitForTask()
    {
        lock (_queueLock)
        {
            while (_queue.First is null)
            {
                if (_stopped)
                    return (null, false);
                Monitor.Wait(_queueLock);
            }
            return Start();
        }
    }

    /// <summary>
    /// Takes the oldest queued task to run it, and whether its start must be reported (an older task still
    /// runs here, so the node would not infer it); under <see cref="_queueLock"/>.
    /// </summary>
    private (Execute Work, bool Report) Start()
    {
        var work = _queue.First!.Value;
        _queue.RemoveFirst();
        var report = _started.Count > 0;
        _started.Add(work.Spec.Id);
        return (work, report);
    }

    /// <summary>Runs one task or actor call and returns its result; never throws.</summary>
    internal async ValueTask<TaskResult> RunAsync(Execute work, TaskContext context, object? instance)
    {
        var spec = work.Spec;
        _running[spec.Id] = context;
        TaskContext.Current = context;
        Ray.Ambient = _ray;
        var result = new TaskResult { Task = spec.Id };
        var views = new List<IDisposable>();
        try
        {
            var function = Functions.Resolve(spec.Function);
            var args = await function.DecodeArgumentsAsync(work, _store, views).ConfigureAwait(false);
            var value = function.Encode(await function.InvokeAsync(instance, args).ConfigureAwait(false));
            result.Contained = value.Contained;
            result.ContainedRefs = value.Refs; // reachable until the result frame is written
            if (value.Large)
            {
                await ObjectValues.WriteAsync(_store, ObjectId.ForReturn(spec.Id), value).ConfigureAwait(false);
                result.InStore = true;
            }
            else
            {
                result.Value = value.Packed;
            }
        }
        catch (RaySharp.ObjectStore.ObjectStoreFullException e)
        {
            result.Error = ErrorInfo.Of(ErrorKind.ObjectStoreFull, $"Task '{spec.DisplayName}' could not store its result in the node's object store: {e.Message}", spec.DisplayName);
            result.Error.Type = e.Error.ToString();
        }
        catch (ObjectStoreException e) when (work.ArgValues.Any(v => v is null))
        {
            result.Error = ErrorInfo.Of(ErrorKind.System, $"Task '{spec.DisplayName}' could not use the node's object store: {e.Message}", spec.DisplayName);
        }
        catch (Exception e)
        {
            result.Error = ErrorInfo.FromException(spec.DisplayName, e);
        }
        finally
        {
            foreach (var view in views)
                view.Dispose();
            _running.TryRemove(spec.Id, out _);
            TaskContext.Current = null;
        }
        return result;
    }

    internal void Reply(Message message) => _reply(message);

    public void Dispose()
    {
        _stop.Cancel();
        lock (_queueLock)
        {
            _stopped = true;
            Monitor.PulseAll(_queueLock);
        }
        _actor?.Stop();
    }

    /// <summary>The actor instance of this worker and its mailbox.</summary>
    private sealed class ActorHost
    {
        private readonly Executor _executor;
        private readonly Channel<Execute> _mailbox = Channel.CreateUnbounded<Execute>(new UnboundedChannelOptions { SingleReader = true });
        private readonly SemaphoreSlim _slots;
        private readonly int _maxConcurrency;
        private object? _instance;
        private ErrorInfo? _creationError;

        public ActorHost(Executor executor, int maxConcurrency)
        {
            _executor = executor;
            _maxConcurrency = Math.Max(1, maxConcurrency);
            _slots = new SemaphoreSlim(_maxConcurrency, _maxConcurrency);
            _ = Task.Run(LoopAsync);
        }

        public void Post(Execute work) => _mailbox.Writer.TryWrite(work);

        public void Stop() => _mailbox.Writer.TryComplete();

        private async Task LoopAsync()
        {
            await foreach (var work in _mailbox.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                if (work.Spec.Kind == TaskKind.ActorCreation)
                {
                    Create(work);
                    continue;
                }
                if (_instance is null)
                {
                    _executor.Reply(new TaskResult
                    {
                        Task = work.Spec.Id,
                        Error = ErrorInfo.Of(ErrorKind.ActorDied,
                            $"The actor could not run {work.Spec.DisplayName}: its constructor threw {_creationError?.Type}: {_creationError?.Message}", work.Spec.DisplayName),
                    });
                    continue;
                }
                var context = new TaskContext(work.Spec.Id, _executor);
                if (_maxConcurrency == 1)
                {
                    _executor.Reply(await _executor.RunAsync(work, context, _instance).ConfigureAwait(false));
                    continue;
                }
                await _slots.WaitAsync().ConfigureAwait(false);
                _ = RunReleasingAsync(work, context);
            }
        }

        private async Task RunReleasingAsync(Execute work, TaskContext context)
        {
            try
            {
                _executor.Reply(await _executor.RunAsync(work, context, _instance).ConfigureAwait(false));
            }
            finally
            {
                _slots.Release();
            }
        }

        private void Create(Execute work)
        {
            var result = new TaskResult { Task = work.Spec.Id, Value = [0xc0] };
            Ray.Ambient = _executor._ray;
            try
            {
                var ctor = Functions.Resolve(work.Spec.Function);
                var views = new List<IDisposable>();
                _instance = ctor.Construct(ctor.DecodeArgumentsAsync(work, _executor._store, views).AsTask().GetAwaiter().GetResult());
                foreach (var view in views)
                    view.Dispose();
            }
            catch (Exception e)
            {
                result.Value = null;
                result.Error = ErrorInfo.FromException(work.Spec.DisplayName, e);
                _creationError = result.Error;
            }
            _executor.Reply(result);
        }
    }
}
