using System.Linq.Expressions;
using Microsoft.Extensions.Logging;
using RaySharp.Protocol;
using RaySharp.Runtime;
using RaySharp.Runtime.Node;

namespace RaySharp;

/// <summary>
/// The entry point: a connection to a RaySharp cluster, through which a program submits remote
/// functions (<c>ray.Task(f, args…).Remote()</c>), creates actors (<c>ray.Actor(() =&gt; new C(…)).Remote()</c>),
/// stores values (<see cref="Put{T}"/>) and waits for results. Create it with <see cref="InitAsync"/>
/// and dispose it to shut an embedded cluster down.
/// </summary>
public sealed partial class Ray : IAsyncDisposable
{
    private static readonly AsyncLocal<Ray?> AmbientRay = new();
    private static Ray? _processDefault;
    private readonly Head? _ownedHead;
    private int _disposed;

    internal Ray(ICoreClient client, Head? ownedHead)
    {
        Client = client;
        _ownedHead = ownedHead;
    }

    internal ICoreClient Client { get; }

    internal Head? OwnedHead => _ownedHead;

    /// <summary>The job this driver's work belongs to.</summary>
    public JobId JobId => Client.Job;

    /// <summary>
    /// The address other drivers attach to: the node's gRPC control service (<c>unix:/…/control.sock</c>, or the
    /// address this driver attached by); null in local mode.
    /// </summary>
    public string? Address => Client.Address;

    /// <summary>
    /// The <see cref="Ray"/> of the code running now: inside a task or actor method, the worker's
    /// connection (use it to submit nested tasks and create actors); in a driver, its latest instance.
    /// </summary>
    /// <exception cref="InvalidOperationException">No Ray was initialised in this process.</exception>
    public static Ray Current => Ambient ?? throw new InvalidOperationException(
        "There is no current Ray: call Ray.InitAsync() first (inside tasks and actors Ray.Current is always set).");

    /// <summary>
    /// Inside a task: fires when the task is cancelled with <see cref="Cancel"/>. Long-running tasks
    /// should observe it. Outside a task: <see cref="CancellationToken.None"/>.
    /// </summary>
    public static CancellationToken TaskCancellation => TaskContext.Current?.Cancellation.Token ?? CancellationToken.None;

    [ThreadStatic]
    private static Ray? _decoding;

    internal static Ray? Ambient
    {
        get => _decoding ?? AmbientRay.Value ?? Volatile.Read(ref _processDefault);
        set => AmbientRay.Value = value;
    }

    internal static void SetProcessDefault(Ray ray) => Volatile.Write(ref _processDefault, ray);

    /// <summary>
    /// Connects to a cluster or starts one. With <see cref="RayOptions.Address"/> (or the
    /// <c>RAYSHARP_ADDRESS</c> environment variable) it asks that node's control service where its data
    /// socket is and attaches there (<see cref="RaySystemException"/> when nothing listens); with
    /// <see cref="RayOptions.LocalMode"/> everything runs in this process; otherwise it starts an embedded
    /// single-node cluster — node services in this process, one worker process per CPU — that is torn
    /// down when the returned instance is disposed.
    /// </summary>
    /// <param name="options">Where to connect or what to start; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    public static async Task<Ray> InitAsync(RayOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RayOptions();
        options.Validate();
        var address = options.LocalMode ? null : options.Address ?? Environment.GetEnvironmentVariable("RAYSHARP_ADDRESS");
        Ray ray;
        if (!string.IsNullOrWhiteSpace(address))
        {
            var hello = new Hello { IsDriver = true, Pid = Environment.ProcessId };
            try
            {
                var app = WorkerLauncher.ForThisApplication();
                (hello.Dotnet, hello.RuntimeConfig, hello.DepsFile, hello.WorkerHost) = (app.Dotnet, app.RuntimeConfig, app.Deps, app.Host);
            }
            catch (FileNotFoundException)
            {
                // Not started from a build output: this driver can use actors and objects but its own tasks cannot run.
            }
            WarnIgnoredNodeOptions(options, address.Trim());
            var node = await ControlAttach.ResolveAsync(address, cancellationToken).ConfigureAwait(false);
            var client = await RemoteClient.ConnectAsync(node.DataSocket, hello, null, cancellationToken, address.Trim()).ConfigureAwait(false);
            ray = new Ray(client, ownedHead: null);
        }
        else
        {
            var head = new Head(options, options.LocalMode);
            ray = new Ray(head, head);
            try
            {
                head.Start(ray);
                await head.ControlReady.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await head.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        SetProcessDefault(ray);
        return ray;
    }

    /// <summary>Says which node options an attaching driver set in vain (the node it joins was started with its own).</summary>
    private static void WarnIgnoredNodeOptions(RayOptions options, string address)
    {
        var ignored = options.NodeOptionsSet();
        if (ignored.Count == 0)
            return;
        var names = string.Join(", ", ignored);
        if (options.LoggerFactory is { } logging)
            LogNodeOptionsIgnored(logging.CreateLogger("RaySharp"), names, address);
        else
            Console.Error.WriteLine($"RaySharp warning: RayOptions {names} do not apply when attaching to the running node at {address}; it keeps the settings it was started with. Leave them unset, or set them where the node starts (raysharp start --head …).");
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "RayOptions {Names} do not apply when attaching to the running node at {Address}; it keeps the settings it was started with. Leave them unset, or set them where the node starts (raysharp start --head …).")]
    private static partial void LogNodeOptionsIgnored(ILogger logger, string names, string address);

    /// <summary>
    /// Stores <paramref name="value"/> in the cluster once, so many tasks can read it by ref. Values over
    /// 100 KiB go to the node's shared-memory object store (<see cref="RayOptions.ObjectStoreBytes"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The value cannot be serialised.</exception>
    /// <exception cref="ObjectStoreFullException">
    /// The value does not fit in the object store: it is larger than the store
    /// (<see cref="ObjectStoreFullException.NeverFits"/>), or pinned objects and the spill budget leave no room now.
    /// </exception>
    public ObjectRef<T> Put<T>(T value)
    {
        ThrowIfDisposed();
        var encoded = ObjectValues.Encode(value, "The value passed to Put");
        var id = new ObjectId(new TaskId(JobId, UniqueIds.Next()), ObjectId.PutFlag);
        if (encoded.Large)
        {
            try
            {
                ObjectValues.WriteAsync(Client.Store, id, encoded).AsTask().GetAwaiter().GetResult();
            }
            catch (RaySharp.ObjectStore.ObjectStoreFullException e)
            {
                throw new ObjectStoreFullException($"Put could not store a value of {encoded.Length:N0} bytes: {e.Message}", e.Error == RaySharp.ObjectStore.ObjectStoreError.TooLarge, e);
            }
            Client.Put(id, null, encoded.Refs);
        }
        else
        {
            Client.Put(id, encoded.Packed, encoded.Refs);
        }
        return new ObjectRef<T>(id, this, counted: true);
    }

    /// <summary>Waits for all <paramref name="refs"/> and returns their values in order.</summary>
    /// <param name="refs">The refs to read.</param>
    /// <param name="timeout">How long to wait for all of them; default forever.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async ValueTask<T[]> GetAsync<T>(IReadOnlyList<ObjectRef<T>> refs, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(refs);
        ThrowIfDisposed();
        var ids = new ObjectId[refs.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = IdOf(refs[i], i);
        var values = await Client.GetAsync(ids, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        var results = new T[values.Length];
        for (var i = 0; i < values.Length; i++)
            results[i] = Decode<T>(ids[i], values[i]);
        GC.KeepAlive(refs); // the objects (and refs inside them) must outlive the decoding
        return results;
    }

    /// <summary>Blocking form of <see cref="GetAsync{T}"/>.</summary>
    /// <param name="refs">The refs to read.</param>
    /// <param name="timeout">How long to wait for all of them; default forever.</param>
    public T[] Get<T>(IReadOnlyList<ObjectRef<T>> refs, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(refs);
        ThrowIfDisposed();
        if (_ownedHead is not { } head || TaskContext.Current is not null)
            return GetAsync(refs, timeout).AsTask().GetAwaiter().GetResult();
        var ids = new ObjectId[refs.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = IdOf(refs[i], i);
        var values = head.GetBlocking(ids, timeout ?? Timeout.InfiniteTimeSpan);
        var results = new T[values.Length];
        for (var i = 0; i < values.Length; i++)
            results[i] = Decode<T>(ids[i], values[i]);
        GC.KeepAlive(refs); // the objects (and refs inside them) must outlive the decoding
        return results;
    }

    /// <summary>
    /// Waits until <paramref name="numReturns"/> of <paramref name="refs"/> are ready (or the timeout
    /// passes) and splits them into ready and pending, each in input order.
    /// </summary>
    /// <param name="refs">The refs to watch.</param>
    /// <param name="numReturns">How many must be ready; default 1; at most the number of refs.</param>
    /// <param name="timeout">The longest wait; default forever. At the timeout the split is returned as it is.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    public async ValueTask<WaitResult<TRef>> WaitAsync<TRef>(IReadOnlyList<TRef> refs, int numReturns = 1, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TRef : ObjectRef
    {
        ArgumentNullException.ThrowIfNull(refs);
        ThrowIfDisposed();
        if (numReturns < 0 || numReturns > refs.Count)
            throw new ArgumentOutOfRangeException(nameof(numReturns), numReturns, $"numReturns must be between 0 and the number of refs ({refs.Count}).");
        var ids = new ObjectId[refs.Count];
        for (var i = 0; i < ids.Length; i++)
            ids[i] = IdOf(refs[i], i);
        var ready = await Client.WaitAsync(ids, numReturns, timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        var done = new List<TRef>();
        var pending = new List<TRef>();
        for (var i = 0; i < ready.Length; i++)
            (ready[i] ? done : pending).Add(refs[i]);
        return new WaitResult<TRef>(done, pending);
    }

    /// <summary>
    /// Cancels the task that makes <paramref name="objectRef"/>: a queued task (in the node, or already in a
    /// worker's queue) never runs; a running one sees <see cref="TaskCancellation"/> fire (with
    /// <paramref name="force"/>, the worker process running it is killed, after the tasks queued behind it
    /// there are handed to other workers). Getting the ref then throws <see cref="TaskCancelledException"/>.
    /// No effect on finished tasks.
    /// </summary>
    /// <param name="objectRef">The result of the task to cancel.</param>
    /// <param name="force">Kill the process running the task instead of asking the task to stop (a task not running yet just never runs).</param>
    public void Cancel(ObjectRef objectRef, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(objectRef);
        ThrowIfDisposed();
        objectRef.ThrowIfDisposed();
        Client.Cancel(objectRef.Id, force);
    }

    /// <summary>The id of a ref passed in a list, checked: not null, not disposed.</summary>
    private static ObjectId IdOf(ObjectRef? objectRef, int index)
    {
        if (objectRef is null)
            throw new ArgumentException($"Ref {index} of the list is null.", "refs");
        objectRef.ThrowIfDisposed();
        return objectRef.Id;
    }

    /// <summary>Prepares an actor: <c>ray.Actor(() =&gt; new Counter(10)).WithName("c").Remote()</c>.</summary>
    /// <param name="create">A constructor call; its arguments are evaluated here and sent to the actor's process.</param>
    public ActorBuilder<T> Actor<T>(Expression<Func<T>> create)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(create);
        ThrowIfDisposed();
        return new ActorBuilder<T>(this, create);
    }

    /// <summary>Finds a named actor (created by any driver or task of this cluster).</summary>
    /// <param name="name">The actor's name.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <exception cref="ArgumentException">No live actor has that name, or it is not a <typeparamref name="T"/>.</exception>
    public async ValueTask<ActorHandle<T>> GetActorAsync<T>(string name, CancellationToken cancellationToken = default)
        where T : class
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfDisposed();
        var found = await Client.LookupActorAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ArgumentException($"No live actor is named '{name}'. Create it with ray.Actor(…).WithName(\"{name}\").Remote() first (names are case-sensitive).", nameof(name));
        if (found.TypeName != typeof(T).FullName)
            throw new ArgumentException($"The actor named '{name}' is a {found.TypeName}, not a {typeof(T).FullName}; ask for GetActorAsync<{found.TypeName[(found.TypeName.LastIndexOf('.') + 1)..]}>.", nameof(name));
        return new ActorHandle<T>(found.Actor, this);
    }

    /// <summary>Kills an actor's process; in-flight and later calls fail with <see cref="ActorDiedException"/>.</summary>
    /// <param name="actor">The actor.</param>
    /// <param name="noRestart">True (default): never restart it. False: restart it if it has restarts left.</param>
    public void Kill<T>(ActorHandle<T> actor, bool noRestart = true)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(actor);
        ThrowIfDisposed();
        Client.KillActor(actor.Id, noRestart);
    }

    /// <summary>
    /// The cluster's state: per node, resources total and available, object store usage, workers and
    /// task/actor/object counts (what <c>raysharp status</c> shows). Lists of tasks, actors and objects come
    /// from the control service (<see cref="Control.NodeControl"/>, <c>raysharp list</c>).
    /// </summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async ValueTask<RayStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return RayStatus.From(await Client.StatusAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The tasks and actor calls the node executed (the last 100,000) as Chrome trace JSON (<c>chrome://tracing</c>, Perfetto).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public ValueTask<string> TimelineAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        return Client.TimelineAsync(cancellationToken);
    }

    /// <summary>Blocking read of one object: directly on the node's wake-up when this thread is a driver thread of the node's process.</summary>
    internal ObjectValue GetValue(ObjectId id, TimeSpan? timeout)
    {
        ThrowIfDisposed();
        if (_ownedHead is { } head && TaskContext.Current is null)
            return head.GetBlocking([id], timeout ?? Timeout.InfiniteTimeSpan)[0];
        var pending = GetValueAsync(id, timeout, CancellationToken.None);
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    internal async ValueTask<ObjectValue> GetValueAsync(ObjectId id, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        var values = await Client.GetAsync([id], timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return values[0];
    }

    internal T Decode<T>(ObjectId id, ObjectValue value)
    {
        if (value.Error is not null)
            throw value.Error.ToException();
        var outer = _decoding;
        _decoding = this;
        try
        {
            if (value.InStore)
            {
                try
                {
                    using var view = Client.Store.GetAsync(id).AsTask().GetAwaiter().GetResult();
                    return ObjectValues.Decode<T>(view);
                }
                catch (RaySharp.ObjectStore.ObjectStoreException e) when (e.Error == RaySharp.ObjectStore.ObjectStoreError.NotFound)
                {
                    throw new ObjectLostException($"Object {id} is no longer in the node's object store (it was freed or its job ended): {e.Message}");
                }
            }
            return RaySerializer.Deserialize<T>(value.Data);
        }
        catch (MessagePack.MessagePackSerializationException e)
        {
            throw new InvalidCastException($"Object {id} does not hold a {typeof(T)}: {e.GetBaseException().Message}. Was the ref created for another type?", e);
        }
        finally
        {
            _decoding = outer;
        }
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
            throw new ObjectDisposedException(nameof(Ray), "This Ray instance was shut down (disposed); its objects, tasks and actors are gone. Call Ray.InitAsync again.");
    }

    /// <summary>Disconnects; an embedded cluster (its worker processes included) is shut down.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        Interlocked.CompareExchange(ref _processDefault, null, this);
        await Client.DisposeAsync().ConfigureAwait(false);
    }
}
