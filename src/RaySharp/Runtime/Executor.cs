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
/// in arrival order (or up to MaxConcurrency at once for async actors). Results go to <c>reply</c>.
/// </summary>
internal sealed class Executor : IDisposable
{
    private readonly Ray _ray;
    private readonly Action<TaskResult> _reply;
    private readonly ObjectStoreClient<ObjectId> _store;
    private readonly BlockingCollection<Execute> _tasks = new(new ConcurrentQueue<Execute>());
    private readonly SemaphoreSlim _cpu = new(1, 1);
    private readonly ConcurrentDictionary<TaskId, TaskContext> _running = new();
    private readonly CancellationTokenSource _stop = new();
    private int _threadsWaitingForCpu;
    private int _threads;
    private ActorHost? _actor;

    public Executor(Ray ray, ObjectStoreClient<ObjectId> store, Action<TaskResult> reply)
    {
        _ray = ray;
        _store = store;
        _reply = reply;
        StartThread();
    }

    /// <summary>Handles a message the node sends a worker: a task to run or a task to cancel; others are ignored.</summary>
    public void Receive(Message message)
    {
        switch (message)
        {
            case Execute execute:
                Accept(execute);
                break;
            case CancelTask cancel:
                Cancel(cancel.Task);
                break;
        }
    }

    public void Accept(Execute execute)
    {
        switch (execute.Spec.Kind)
        {
            case TaskKind.Normal:
                _tasks.Add(execute);
                break;
            case TaskKind.ActorCreation:
                _actor = new ActorHost(this, execute.Spec.MaxConcurrency);
                _actor.Post(execute);
                break;
            case TaskKind.ActorCall:
                if (_actor is null)
                    _reply(new TaskResult { Task = execute.Spec.Id, Error = ErrorInfo.Of(ErrorKind.ActorDied, $"The worker meant for actor {execute.Spec.Actor} has no actor.") });
                else
                    _actor.Post(execute);
                break;
        }
    }

    public void Cancel(TaskId task)
    {
        if (_running.TryGetValue(task, out var context))
            context.Cancellation.Cancel();
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
                Execute work;
                try
                {
                    work = _tasks.Take(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    _cpu.Release();
                    return;
                }
                var context = new TaskContext(work.Spec.Id, this) { HoldsCpu = true };
                RunAsync(work, context, instance: null).AsTask().GetAwaiter().GetResult();
                if (!context.CpuReleased)
                    _cpu.Release();
            }
        }
        catch (OperationCanceledException)
        {
            // Worker shutting down.
        }
    }

    /// <summary>Runs one task or actor call and posts its result; never throws.</summary>
    internal async ValueTask RunAsync(Execute work, TaskContext context, object? instance)
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
        _reply(result);
    }

    internal void Reply(TaskResult result) => _reply(result);

    public void Dispose()
    {
        _stop.Cancel();
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
                    await _executor.RunAsync(work, context, _instance).ConfigureAwait(false);
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
                await _executor.RunAsync(work, context, _instance).ConfigureAwait(false);
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
