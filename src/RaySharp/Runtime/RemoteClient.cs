using System.Collections.Concurrent;
using RaySharp.ObjectStore;
using RaySharp.Protocol;

namespace RaySharp.Runtime;

/// <summary>
/// A process's view of a node it reaches over the node socket: worker processes and drivers that attach
/// by address. Submissions, puts, kills and cancels are one-way frames (ids are made here, so nothing
/// waits); gets, waits and lookups are requests matched to replies by id.
/// </summary>
internal sealed class RemoteClient : ICoreClient
{
    private readonly Connection _connection;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<Message>> _pending = new();
    private readonly TaskCompletionSource<HelloReply> _hello = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<ObjectId, int> _held = [];
    private readonly List<ObjectId> _drops = [];
    private long _nextRequest;
    private JobId _job;

    private RemoteClient(Connection connection, string address)
    {
        _connection = connection;
        Address = address;
    }

    public JobId Job => _job;

    public ObjectStoreClient<ObjectId> Store { get; private set; } = null!;

    public string? Address { get; }

    /// <summary>Handles frames other than replies (a worker's Execute and CancelTask).</summary>
    public Action<Message>? OnOther { get; set; }

    /// <summary>Completes when the connection to the node is gone.</summary>
    public Task Closed => _closed.Task;

    /// <param name="address">The data-plane socket (<c>unix:/path</c> or the path).</param>
    /// <param name="hello">The first frame.</param>
    /// <param name="onOther">Handles frames other than replies.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <param name="publicAddress">What <see cref="Address"/> reports (an attached driver's control address); default the socket.</param>
    public static async Task<RemoteClient> ConnectAsync(string address, Hello hello, Action<Message>? onOther, CancellationToken cancellationToken, string? publicAddress = null)
    {
        var path = address.StartsWith("unix:", StringComparison.Ordinal) ? address["unix:".Length..] : address;
        Connection connection;
        try
        {
            connection = await Connection.ConnectAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new RaySystemException(
                $"Could not connect to the RaySharp node at '{address}' ({e.Message}). Check the address printed by 'raysharp start --head' " +
                "(or RAYSHARP_ADDRESS) and that the node is still running.", e);
        }
        var client = new RemoteClient(connection, publicAddress ?? "unix:" + path) { OnOther = onOther };
        connection.Start(client.OnMessage, _ => client.OnClosed());
        connection.Send(hello);
        var reply = await client._hello.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        client._job = reply.Job;
        client.Store = new ObjectStoreClient<ObjectId>(new RemoteObjectStoreControl<ObjectId>(client.StoreCallAsync), reply.StoreDirectory);
        return client;
    }

    private void OnMessage(Message message)
    {
        switch (message)
        {
            case HelloReply hello:
                _hello.TrySetResult(hello);
                break;
            case IRequestReply r:
                Reply(r.RequestId, message);
                break;
            case ProtocolError error:
                var failure = new RaySystemException($"The node rejected this client: {error.Text}");
                _hello.TrySetException(failure);
                foreach (var p in _pending.Values)
                    p.TrySetException(failure);
                break;
            default:
                OnOther?.Invoke(message);
                break;
        }
    }

    private void Reply(long id, Message message)
    {
        if (_pending.TryRemove(id, out var waiter))
            waiter.TrySetResult(message);
    }

    private void OnClosed()
    {
        var failure = new RaySystemException("The connection to the RaySharp node closed; the node was stopped or this client was disconnected.");
        _hello.TrySetException(failure);
        foreach (var p in _pending.Values)
            p.TrySetException(failure);
        _pending.Clear();
        _closed.TrySetResult();
    }

    private void ThrowIfClosed()
    {
        if (!_connection.IsOpen)
            throw new RaySystemException("The connection to the RaySharp node is closed; the node was stopped or this client was disconnected.");
    }

    private async Task<TReply> RequestAsync<TReply>(Func<long, Message> make, TimeSpan timeout, CancellationToken cancellationToken)
        where TReply : Message
    {
        ThrowIfClosed();
        var id = Interlocked.Increment(ref _nextRequest);
        var waiter = new TaskCompletionSource<Message>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = waiter;
        _connection.Send(make(id));
        try
        {
            return (TReply)await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public void Submit(TaskSpec spec)
    {
        ThrowIfClosed();
        _connection.Send(new Submit { Spec = spec });
    }

    private async ValueTask<ReadOnlyMemory<byte>> StoreCallAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync<StoreReply>(id => new StoreCall { RequestId = id, Request = request.ToArray() }, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return reply.Reply;
    }

    public void Put(ObjectId id, byte[]? data, ObjectRef[]? contained)
    {
        ThrowIfClosed();
        _connection.Send(new Put { Id = id, Value = data, Contained = ContainedRefs.Ids(contained), ContainedRefs = contained });
    }

    public async ValueTask<ObjectValue[]> GetAsync(ObjectId[] ids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var context = TaskContext.Current;
        context?.ReleaseCpu();
        try
        {
            var reply = await RequestAsync<GetReply>(id => new GetRequest { RequestId = id, Ids = ids, FromTask = context is { HoldsCpu: true } }, timeout, cancellationToken).ConfigureAwait(false);
            return reply.Values ?? [];
        }
        catch (TimeoutException)
        {
            throw new GetTimeoutException(
                $"Timed out after {timeout.TotalSeconds:0.###} s waiting for {(ids.Length == 1 ? ids[0].ToString() : ids.Length + " objects")}; " +
                "the producing tasks are still queued or running.");
        }
    }

    public async ValueTask<bool[]> WaitAsync(ObjectId[] ids, int numReturns, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ms = timeout == Timeout.InfiniteTimeSpan ? -1 : (long)timeout.TotalMilliseconds;
        var reply = await RequestAsync<WaitReply>(id => new WaitRequest { RequestId = id, Ids = ids, NumReturns = numReturns, TimeoutMs = ms }, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return reply.Ready;
    }

    public async ValueTask<(ActorId Actor, string TypeName)?> LookupActorAsync(string name, CancellationToken cancellationToken)
    {
        var reply = await RequestAsync<LookupActorReply>(id => new LookupActor { RequestId = id, Name = name }, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return reply.Found ? (reply.Actor, reply.TypeName) : null;
    }

    public void KillActor(ActorId actor, bool noRestart) => _connection.Send(new KillActor { Actor = actor, NoRestart = noRestart });

    public void Cancel(ObjectId id, bool force) => _connection.Send(new CancelObject { Id = id, Force = force });

    // ---- borrowing: this process's handles, counted here, reported to the node on 0 <-> 1 changes ----

    /// <summary>
    /// A handle was created here. The first handle to an object read out of a value is reported at once
    /// (before anything this process sends later, so before the task that read it reports its result and
    /// the node drops the argument's pin); a handle the node made for this process is already counted.
    /// </summary>
    public void AddRef(ObjectId id, bool counted)
    {
        lock (_held)
        {
            ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_held, id, out _);
            if (count++ == 0 && !counted && _connection.IsOpen)
                _connection.Send(new Release { Added = [id] }); // under the lock: ordered with this process's other reports
        }
    }

    /// <summary>
    /// A handle was disposed or finalised. The last one's release is batched with others on the thread
    /// pool (finalisers must not write to sockets); a late release only keeps an object a moment longer.
    /// </summary>
    public void DropRef(ObjectId id)
    {
        lock (_held)
        {
            if (!_held.TryGetValue(id, out var count))
                return;
            if (count > 1)
            {
                _held[id] = count - 1;
                return;
            }
            _held.Remove(id);
            _drops.Add(id);
            if (_drops.Count > 1)
                return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static client => client.SendDrops(), this, preferLocal: false);
    }

    private void SendDrops()
    {
        ObjectId[] ids;
        lock (_held)
        {
            ids = [.. _drops];
            _drops.Clear();
        }
        if (ids.Length > 0 && _connection.IsOpen)
            _connection.Send(new Release { Ids = ids });
    }

    /// <summary>Sends a frame as is (workers send their results this way).</summary>
    public void Send(Message message) => _connection.Send(message);

    public async ValueTask<Control.ClusterStatus> StatusAsync(CancellationToken cancellationToken)
    {
        var reply = await RequestAsync<StatusReply>(id => new StatusRequest { RequestId = id }, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return Control.ClusterStatus.Parser.ParseFrom(reply.Status);
    }

    public async ValueTask<string> TimelineAsync(CancellationToken cancellationToken)
    {
        var reply = await RequestAsync<StatusReply>(id => new StatusRequest { RequestId = id, Timeline = true }, TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return reply.Json;
    }

    public async ValueTask DisposeAsync()
    {
        Store?.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }
}
