using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RaySharp.ObjectStore;
using RaySharp.Protocol;

namespace RaySharp.Runtime.Node;

/// <summary>
/// The node's sockets. The data plane (<c>node.sock</c>): worker processes and attached drivers connect
/// here; the first frame of a connection is <see cref="Hello"/>; a worker's connection then carries its
/// results and its nested submissions, a driver's carries submissions, gets, puts and lookups. The
/// control plane (<c>control.sock</c>, and TCP when a port is configured): the gRPC
/// <see cref="ControlService"/>, which tells attaching drivers where the data plane is.
/// </summary>
internal sealed partial class NodeServer(Head head, string socketPath, ILogger log) : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Connection> _connections = [];
    private readonly ControlServer _control = new(head, Path.Combine(Path.GetDirectoryName(socketPath)!, "control.sock"),
        head.Options.ControlHost, head.Options.ControlPort);
    private Task _accept = Task.CompletedTask;

    /// <summary>The data-plane socket.</summary>
    public string SocketPath { get; } = socketPath;

    /// <summary>The address drivers attach to: the control service's Unix socket.</summary>
    public string Address => ControlAddresses[0];

    /// <summary>Where the control service listens: <c>unix:/…/control.sock</c>, then <c>host:port</c> if TCP is on.</summary>
    public IReadOnlyList<string> ControlAddresses => _control.Addresses;

    /// <summary>Completes when the control service listens (it starts in the background, beside the worker processes).</summary>
    public Task ControlStarted { get; private set; } = Task.CompletedTask;

    public void Start()
    {
        if (File.Exists(SocketPath))
            File.Delete(SocketPath);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(512);
        _accept = Task.Run(AcceptLoopAsync);
        ControlStarted = Task.Run(() => _control.StartAsync(_stop.Token));
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var peer = new Peer(new Connection(socket));
            lock (_connections)
                _connections.Add(peer.Connection);
            peer.Connection.Start(m => OnMessage(peer, m), c => OnClosed(peer));
        }
    }

    private sealed class Peer(Connection connection)
    {
        public Connection Connection { get; } = connection;
        public bool Greeted;
        public WorkerHandle? Worker;
        public ObjectStoreSession<ObjectId>? Store;
        public JobId? DriverJob;
        /// <summary>The object handles this process holds (borrowing); dropped when it disconnects.</summary>
        public RefHolder Refs { get; } = new();
    }

    private void OnMessage(Peer peer, Message message)
    {
        if (!peer.Greeted)
        {
            if (message is not Hello hello)
            {
                Reject(peer, $"The first frame on a RaySharp node connection must be Hello, not {message.GetType().Name}.");
                return;
            }
            peer.Greeted = true;
            if (!hello.IsDriver)
            {
                var worker = head.FindStartingWorker(hello.WorkerId);
                if (worker is null)
                {
                    Reject(peer, $"Worker id {hello.WorkerId} was not started by this node (or already connected).");
                    return;
                }
                peer.Worker = worker;
                head.OnRegistered(worker, new RemoteWorkerLink(peer.Connection, hello.Pid));
            }
            var job = peer.Worker?.Job ?? UniqueIds.NewJob();
            if (peer.Worker is null)
                peer.DriverJob = job;
            if (peer.Worker is null && hello is { RuntimeConfig: { } config, DepsFile: { } deps, WorkerHost: { } host, Dotnet: { } dotnet })
                head.RegisterJob(job, new WorkerCommand(dotnet, config, deps, host));
            peer.Connection.Send(new HelloReply { Node = head.Node, Job = job, StoreDirectory = head.ObjectStore.Directory });
            return;
        }
        try
        {
            Handle(peer, message);
        }
        catch (Exception e) when (e is ObjectDisposedException or ArgumentException or InvalidOperationException)
        {
            LogRequestFailed(log, message.GetType().Name, e.Message);
            Reject(peer, $"{message.GetType().Name} could not be handled: {e.Message}");
        }
    }

    private void Handle(Peer peer, Message message)
    {
        switch (message)
        {
            case TaskResult or TaskStarted or TasksReturned when peer.Worker is not null:
                head.OnWorkerMessage(peer.Worker, message);
                break;
            case Submit submit:
                head.Submit(submit.Spec, peer.Refs);
                break;
            case Put put:
                head.Put(put.Id, put.Value, put.Contained, peer.Refs);
                break;
            case GetRequest get:
                _ = ServeGetAsync(peer, get);
                break;
            case WaitRequest wait:
                _ = ServeWaitAsync(peer, wait);
                break;
            case LookupActor lookup:
                _ = ServeLookupAsync(peer, lookup);
                break;
            case KillActor kill:
                head.KillActor(kill.Actor, kill.NoRestart);
                break;
            case CancelObject cancel:
                head.Cancel(cancel.Id, cancel.Force);
                break;
            case Release release:
                head.Release(release, peer.Refs);
                break;
            case StoreCall call:
                lock (peer)
                {
                    peer.Store ??= new ObjectStoreSession<ObjectId>(head.ObjectStore);
                    var reply = new System.Buffers.ArrayBufferWriter<byte>(64);
                    peer.Store.Handle(call.Request, reply);
                    peer.Connection.Send(new StoreReply { RequestId = call.RequestId, Reply = reply.WrittenSpan.ToArray() });
                }
                break;
            case StatusRequest status:
                _ = ServeStatusAsync(peer, status);
                break;
            default:
                Reject(peer, $"A {message.GetType().Name} message is not a request a node accepts here.");
                break;
        }
    }

    private async Task ServeGetAsync(Peer peer, GetRequest request)
    {
        try
        {
            await head.AwaitForRemoteAsync(request.Ids, request.Ids.Length, request.FromTask ? peer.Worker : null).ConfigureAwait(false);
            var values = await head.GetAsync(request.Ids, Timeout.InfiniteTimeSpan, CancellationToken.None).ConfigureAwait(false);
            peer.Connection.Send(new GetReply { RequestId = request.RequestId, Values = values });
        }
        catch (ObjectDisposedException)
        {
            // The node is shutting down; the connection closes with it.
        }
    }

    private async Task ServeWaitAsync(Peer peer, WaitRequest request)
    {
        try
        {
            var timeout = request.TimeoutMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(request.TimeoutMs);
            var ready = await head.WaitAsync(request.Ids, request.NumReturns, timeout, CancellationToken.None).ConfigureAwait(false);
            peer.Connection.Send(new WaitReply { RequestId = request.RequestId, Ready = ready });
        }
        catch (ObjectDisposedException)
        {
            // Shutting down.
        }
    }

    private async Task ServeLookupAsync(Peer peer, LookupActor request)
    {
        var found = await head.LookupActorAsync(request.Name, CancellationToken.None).ConfigureAwait(false);
        peer.Connection.Send(new LookupActorReply
        {
            RequestId = request.RequestId,
            Found = found is not null,
            Actor = found?.Actor ?? default,
            TypeName = found?.TypeName ?? "",
        });
    }

    private async Task ServeStatusAsync(Peer peer, StatusRequest request)
    {
        var reply = new StatusReply { RequestId = request.RequestId };
        if (request.Timeline)
            reply.Json = await head.TimelineAsync(CancellationToken.None).ConfigureAwait(false);
        else
            reply.Status = Google.Protobuf.MessageExtensions.ToByteArray(await head.StatusAsync(CancellationToken.None).ConfigureAwait(false));
        peer.Connection.Send(reply);
    }

    private void Reject(Peer peer, string text)
    {
        LogRejected(log, text);
        peer.Connection.Send(new ProtocolError { Text = text });
    }

    private void OnClosed(Peer peer)
    {
        lock (_connections)
            _connections.Remove(peer.Connection);
        lock (peer)
            peer.Store?.Dispose();
        if (peer.DriverJob is { } job)
            head.OnDriverExited(job);
        if (peer.Worker is { } worker)
            head.OnWorkerDied(worker, peer.Connection.CloseReason is { } e ? $"its connection closed ({e.Message})" : "its connection closed");
        head.DropHolder(peer.Refs);
        _ = peer.Connection.DisposeAsync().AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        try
        {
            await ControlStarted.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RaySystemException or OperationCanceledException)
        {
            // It never listened; the caller of Start saw why.
        }
        await _control.DisposeAsync().ConfigureAwait(false);
        Connection[] open;
        lock (_connections)
            open = [.. _connections];
        foreach (var c in open)
            await c.DisposeAsync().ConfigureAwait(false);
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
            // Best effort.
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected a node connection: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Request} request failed: {Reason}")]
    private static partial void LogRequestFailed(ILogger logger, string request, string reason);
}
