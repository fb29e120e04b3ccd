using System.Diagnostics;
using System.Net;
using RaySharp.Chain.Diagnostics;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Server;

/// <summary>
/// One chain server: stores the virtual groups the controller assigns to it, acts as head, middle,
/// tail or joiner of each, replicates writes down the chain and serves reads as a tail. All state
/// changes happen under one lock; I/O runs on per-connection loops.
/// </summary>
public sealed partial class ChainServer : IAsyncDisposable
{
    private readonly ChainServerOptions _options;
    private readonly object _gate = new();
    private readonly Dictionary<int, GroupState> _groups = [];
    private readonly Dictionary<int, PeerLink> _links = [];
    private readonly Dictionary<int, FramedConnection> _upstream = [];
    private readonly Dictionary<FramedConnection, Queue<Frame>> _deferred = [];
    private readonly HashSet<FramedConnection> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Random _faults;
    private readonly ServerLog? _log;
    private readonly Syncer _syncer;
    private FrameListener? _listener;
    private readonly ConnectionSecurity _security;

    /// <summary>What this server proves to be in token handshakes: <c>server/ID</c>.</summary>
    private readonly string _identity;
    private FramedConnection? _controller;
    private ChainConfig? _config;
    private readonly List<(long Required, Action Send)> _outbox = [];
    private readonly List<Action> _forward = [];
    private readonly List<PendingAck> _acks = [];
    private readonly List<PendingAck> _readyAcks = [];
    private readonly Dictionary<FramedConnection, FrameBuilder> _ackFrames = [];
    private readonly List<(int Group, long Seq, string Key)> _ackScratch = [];
    private bool _pushStateOnFirstConfig;
    private long _configAsked;
    private long _lastPeerRefresh;
    private bool _peerRefreshRunning;
    private long _lastControllerRefresh;
    private bool _controllerRefreshRunning;
    private long _leaseUntil;
    private Task? _controllerLoop;
    private Task? _leaseLoop;

    private ChainServer(ChainServerOptions options)
    {
        _options = options;
        _security = new ConnectionSecurity(options.Token, options.Tls, options.Logger);
        _identity = Controller.ChainController.ServerIdentity(options.ServerId);
        _faults = new Random(options.Seed);
        if (options.DataDirectory is not null)
        {
            _log = new ServerLog(options.DataDirectory, options.LogCompactionBytes);
            _log.Replay(ReplayRecord);
            _pushStateOnFirstConfig = _groups.Count > 0;
        }
        _syncer = new Syncer(this);
    }

    /// <summary>The address clients and peers connect to.</summary>
    public IPEndPoint EndPoint => _listener!.EndPoint;

    /// <summary>This server's id.</summary>
    public int ServerId => _options.ServerId;

    /// <summary>The epoch of the configuration this server runs, or -1 before the first one arrives.</summary>
    public long Epoch
    {
        get
        {
            lock (_gate)
                return _config?.Epoch ?? -1;
        }
    }

    /// <summary>Starts listening, replays the log and registers with the controller.</summary>
    public static async Task<ChainServer> StartAsync(ChainServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        ChainTrace.SetRole($"server-{options.ServerId}");
        // Before serving: the first reconnect to a successor that just died would otherwise pay for it.
        await FramedConnection.WarmUpRefusedConnectAsync().ConfigureAwait(false);
        var server = new ChainServer(options);
        server._listener = new FrameListener(options.ListenEndPoint, server.OnAccepted, server._security);
        server._controllerLoop = Task.Run(server.ControllerLoopAsync);
        server._leaseLoop = Task.Run(server.LeaseLoopAsync);
        return server;
    }

    /// <summary>Stops serving and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        if (_listener is not null)
            await _listener.DisposeAsync().ConfigureAwait(false);
        List<FramedConnection> all;
        lock (_gate)
        {
            all = [.. _connections];
            all.AddRange(_links.Values.Select(l => l.Connection).OfType<FramedConnection>());
            if (_controller is not null)
                all.Add(_controller);
        }
        foreach (var connection in all)
            await connection.DisposeAsync().ConfigureAwait(false);
        if (_controllerLoop is not null)
            await _controllerLoop.ConfigureAwait(false);
        if (_leaseLoop is not null)
            await _leaseLoop.ConfigureAwait(false);
        if (_expiryClient is not null)
            await _expiryClient.DisposeAsync().ConfigureAwait(false);
        await _syncer.DisposeAsync().ConfigureAwait(false);
        _log?.Dispose();
        _stop.Dispose();
    }

    private void OnAccepted(FramedConnection connection)
    {
        lock (_gate)
        {
            if (_stop.IsCancellationRequested)
            {
                connection.Close();
                return;
            }
            _connections.Add(connection);
        }
        connection.Start(HandleIncomingAsync, ReleaseAfterBatch, writeInline: true);
        _ = connection.Closed.ContinueWith(_ => OnIncomingClosed(connection), TaskScheduler.Default);
    }

    private void OnIncomingClosed(FramedConnection connection)
    {
        lock (_gate)
        {
            _connections.Remove(connection);
            _deferred.Remove(connection);
            if (connection.Tag is int from)
            {
                if (ChainTrace.Enabled)
                    ChainTrace.Write($"upstream-closed peer={from}");
                // The predecessor may be gone, making this server a head: learn the configuration that says so.
                SuspectStale();
            }
            if (connection.Tag is int peer && _upstream.TryGetValue(peer, out var current) && current == connection)
                _upstream.Remove(peer);
            foreach (var state in _groups.Values)
                state.Watchers.RemoveAll(w => w.Connection == connection);
        }
    }

    private ValueTask HandleIncomingAsync(FramedConnection connection, Frame frame)
    {
        if (connection.Tag is int && _options.FaultDropProbability > 0 && IsReplication(frame.Op))
        {
            bool drop;
            lock (_faults)
                drop = _faults.NextDouble() < _options.FaultDropProbability;
            if (drop)
            {
                connection.Close();
                return ValueTask.CompletedTask;
            }
        }
        lock (_gate)
        {
            try
            {
                Dispatch(connection, frame);
            }
            catch (ProtocolException e)
            {
                connection.SendError(frame.RequestId, e.Code, e.Message);
            }
            catch (ArgumentException e)
            {
                connection.SendError(frame.RequestId, ErrorCode.Malformed, e.Message);
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Runs once the frames of one socket read have been handled: one log write and one release of queued
    /// messages per read rather than per frame (per frame, the log write alone was 1.7 system calls per
    /// chain write under 64 writers; docs/chain.md "Where a write's time goes").
    /// </summary>
    private void ReleaseAfterBatch(FramedConnection connection)
    {
        lock (_gate)
            Release();
    }

    /// <summary>
    /// Whether the replication path also writes from the read loop (<see cref="FramedConnection.Start"/>'s
    /// <c>writeInline</c>): with fsync on. Clients' connections always do. A durable server's frames come in
    /// bursts — forwards as records arrive, acknowledgements and replies as each sync completes — and writing
    /// each burst from the thread that produced it saves a hop to the connection's writer per burst. Without
    /// fsync the chain's frames trickle steadily between servers, and the writer's hop is what lets them pile up
    /// into large writes, so a volatile server's peer connections keep it (docs/chain.md "Where a write's time
    /// goes", measured both ways).
    /// </summary>
    private bool WriteInline => _options.Fsync == FsyncPolicy.Always;

    private static bool IsReplication(OpCode op) => op is OpCode.Replicate or OpCode.SnapshotBegin or OpCode.SnapshotHistory or OpCode.SnapshotEntry or OpCode.SnapshotEnd or OpCode.Activate;

    private void Dispatch(FramedConnection connection, Frame frame)
    {
        switch (frame.Op)
        {
            case OpCode.Hello:
                {
                    var reader = frame.Reader();
                    var peer = reader.I32();
                    reader.End();
                    if (!TrustHello(connection, peer))
                        return;
                    connection.Tag = peer;
                    _upstream[peer] = connection;
                    if (!WriteInline)
                        connection.StopWritingInline(); // a predecessor's connection: see WriteInline
                    if (_options.FaultMaxDelay > TimeSpan.Zero)
                        connection.IncomingDelay = RandomFaultDelay;
                    break;
                }
            case var op when IsReplication(op):
                if (connection.Tag is not int sender)
                    throw new ProtocolException(ErrorCode.Malformed, $"{frame.Op} from a connection that did not say Hello; only servers replicate.");
                if (_config is null || _deferred.ContainsKey(connection) || PeekEpoch(frame) > _config.Epoch)
                {
                    if (!_deferred.TryGetValue(connection, out var queue))
                        _deferred[connection] = queue = new Queue<Frame>();
                    if (ChainTrace.Enabled && queue.Count == 0)
                        ChainTrace.Write($"defer from={sender} epoch={PeekEpoch(frame)} mine={_config?.Epoch ?? -1}");
                    queue.Enqueue(frame);
                    // The sender runs a newer configuration than ours; the controller may be down or its push
                    // late, so learn it from the sender rather than wait (waiting stalls the chain).
                    LearnEpoch(connection, PeekEpoch(frame));
                    return;
                }
                HandleReplication(connection, sender, frame);
                break;
            case OpCode.Get:
                HandleGet(connection, frame);
                break;
            case OpCode.Put or OpCode.Delete or OpCode.Cas:
                HandleWrite(connection, frame);
                break;
            case OpCode.GetConfig:
                frame.Reader().End();
                if (_config is null)
                    connection.SendError(frame.RequestId, ErrorCode.Unavailable, "This server has no configuration yet; ask the controller.");
                else
                    Emit(connection, _config.WriteTo(new FrameBuilder(OpCode.ConfigReply, frame.RequestId, 256)).Build());
                break;
            case OpCode.Watch:
                HandleWatch(connection, frame);
                break;
            case OpCode.LeaseGrant or OpCode.LeaseKeepAlive or OpCode.LeaseRevoke or OpCode.LockAcquire or OpCode.LockRelease:
                HandleCoordination(connection, frame);
                break;
            case OpCode.Ok or OpCode.Error or OpCode.ConfigReply:
                break; // unsolicited replies are ignored (never answered: no error ping-pong)
            default:
                throw new ProtocolException(ErrorCode.UnknownOpCode, $"Unknown operation code {(byte)frame.Op}; this server speaks chain protocol version 1.");
        }
    }

    /// <summary>
    /// Called under the lock when <paramref name="connection"/> says it is server <paramref name="peer"/> (issue 14:
    /// one spoofed Hello once took a predecessor's acknowledgements and stopped its chains). Believed only when the
    /// claim holds up: a connection says Hello once; <paramref name="peer"/> is another server of the current
    /// configuration; with a cluster token, the connection proved to be that very server in its handshake; and no
    /// other open connection is already <paramref name="peer"/>. A second unproved claim never replaces the first:
    /// it is refused (logged with its address) and closed; the real server, if it was the one refused, reconnects
    /// once its old connection has closed. A second connection that proved the identity with the token replaces
    /// the first (a restarted server), logged. A refused claim changes nothing.
    /// </summary>
    private bool TrustHello(FramedConnection connection, int peer)
    {
        string? refusal = null;
        if (connection.Tag is int already)
            refusal = $"a second Hello on a connection that already said it is server {already}";
        else if (connection.PeerIdentity is { } proved && proved != Controller.ChainController.ServerIdentity(peer))
            refusal = $"a Hello claiming server {peer} on a connection authenticated as '{proved}'";
        else if (peer == Me || _config is null || !_config.Servers.ContainsKey(peer))
            refusal = $"a Hello claiming server {peer}, which is not another server of configuration epoch {_config?.Epoch ?? -1}";
        else if (_upstream.TryGetValue(peer, out var current) && current != connection && !current.Closed.IsCompleted)
        {
            if (connection.PeerIdentity is null)
                refusal = $"a Hello claiming server {peer}, which already has an open connection here";
            else
            {
                ServerEvents.PeerConnectionReplaced(_options.Logger, Me, connection.Remote?.ToString() ?? "unknown", peer);
                _upstream.Remove(peer);
                current.Close();
            }
        }
        if (refusal is null)
            return true;
        _security.Refusals.Refused(connection.Remote, refusal);
        if (ChainTrace.Enabled)
            ChainTrace.Write($"hello-refused claimed={peer}");
        connection.SendError(0, ErrorCode.Malformed, $"Refused: {refusal}.");
        connection.CloseAfterFlush();
        if (_config is not null && !_config.Servers.ContainsKey(peer))
            SuspectStale(); // the configuration that adds the server may be on its way
        return false;
    }

    /// <summary>
    /// Called under the lock when a peer shows a configuration newer than ours: fetches it from that peer.
    /// Every configuration is in the controller's fsync'd log before any server holds it, so a peer's copy
    /// is as good as the controller's; this keeps chains moving when a push was lost or the controller is
    /// down (a server on an older epoch defers its newer neighbour's frames and would otherwise wait for
    /// the controller forever).
    /// </summary>
    private void LearnEpoch(FramedConnection peer, long epoch)
    {
        if ((_config is not null && epoch <= _config.Epoch) || epoch <= _configAsked || _stop.IsCancellationRequested)
            return;
        _configAsked = epoch;
        _ = FetchConfigFromAsync(peer, epoch);
    }

    private async Task FetchConfigFromAsync(FramedConnection peer, long epoch)
    {
        try
        {
            await AskForConfigAsync(peer, TimeSpan.FromSeconds(5), "neighbour").ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                if (_configAsked == epoch && (_config?.Epoch ?? -1) < epoch)
                    _configAsked = 0;
            }
        }
    }

    /// <summary>
    /// Asks <paramref name="connection"/> for its configuration and adopts it if newer (<paramref name="source"/>
    /// names the path in the trace). A connection that drops, times out or answers nonsense is ignored: every
    /// caller has another way to learn the configuration.
    /// </summary>
    private async Task AskForConfigAsync(FramedConnection connection, TimeSpan timeout, string source)
    {
        try
        {
            var id = connection.NextRequestId();
            var reply = await connection.RequestAsync(id, new FrameBuilder(OpCode.GetConfig, id).Build(), timeout, _stop.Token).ConfigureAwait(false);
            if (reply.Op == OpCode.ConfigReply)
                AdoptFromReply(reply, source);
        }
        catch (Exception e) when (e is IOException or TimeoutException or OperationCanceledException or ProtocolException or ObjectDisposedException)
        {
            // Gone or silent: the caller's other paths (reconnects, heartbeats, peers) bring the configuration.
        }
    }

    /// <summary>
    /// Called under the lock when a client addresses this server in a role its configuration does not give
    /// it (the client may know a newer configuration), or when a successor's link drops. First asks the
    /// controller on the open session (a frame; at most every 2 ms), which has every configuration at once
    /// — a push can be slower than the client that already acts on it. With the controller down no push or
    /// heartbeat brings it, and a server that should have become a head is sent nothing by its neighbours,
    /// so also ask every peer (at most one round at a time, every 20 ms) and adopt the newest answer.
    /// </summary>
    private void SuspectStale()
    {
        if (_config is null || _stop.IsCancellationRequested)
            return;
        if (!_controllerRefreshRunning && _controller is { Closed.IsCompleted: false } controller &&
            Stopwatch.GetElapsedTime(_lastControllerRefresh) >= TimeSpan.FromMilliseconds(2))
        {
            _controllerRefreshRunning = true;
            _lastControllerRefresh = Stopwatch.GetTimestamp();
            _ = RefreshFromControllerAsync(controller);
        }
        if (_peerRefreshRunning || Stopwatch.GetElapsedTime(_lastPeerRefresh) < TimeSpan.FromMilliseconds(20))
            return;
        _peerRefreshRunning = true;
        _lastPeerRefresh = Stopwatch.GetTimestamp();
        if (ChainTrace.Enabled)
            ChainTrace.Write($"ask-peers epoch={_config.Epoch}");
        List<IPEndPoint> peers = [.. _config.Servers.Where(s => s.Key != Me).Select(s => s.Value)];
        _ = Task.Run(() => RefreshFromPeersAsync(peers));
    }

    private async Task RefreshFromControllerAsync(FramedConnection controller)
    {
        try
        {
            await AskForConfigAsync(controller, TimeSpan.FromSeconds(1), "controller").ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
                _controllerRefreshRunning = false;
        }
    }

    private async Task RefreshFromPeersAsync(List<IPEndPoint> peers)
    {
        try
        {
            await Task.WhenAll(peers.Select(async endPoint =>
            {
                try
                {
                    var connection = await FramedConnection.ConnectAsync(endPoint, TimeSpan.FromSeconds(1), _stop.Token, _security, _identity).ConfigureAwait(false);
                    await using var closing = connection.ConfigureAwait(false);
                    connection.Start((_, _) => ValueTask.CompletedTask);
                    await AskForConfigAsync(connection, TimeSpan.FromSeconds(1), "peers").ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException)
                {
                    // that peer is down or has no configuration: the others may answer
                }
            })).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
                _peerRefreshRunning = false;
        }
    }

    private static long PeekEpoch(Frame frame) =>
        frame.Payload.Length >= 8 ? BitConverter.ToInt64(frame.Payload, 0) : long.MinValue;

    private TimeSpan RandomFaultDelay()
    {
        lock (_faults)
            return TimeSpan.FromTicks((long)(_faults.NextDouble() * _options.FaultMaxDelay.Ticks));
    }

    // ---- outbox: every message that depends on state goes out after the log has it ----

    /// <summary>Queues a message that depends on everything logged so far.</summary>
    private void Emit(FramedConnection connection, OutFrame frame) => Emit(LogEnd, () => connection.Send(frame));

    /// <summary>Queues a message that depends on the log up to <paramref name="required"/> (a position in the log).</summary>
    private void Emit(long required, FramedConnection connection, OutFrame frame) => Emit(required, () => connection.Send(frame));

    private void Emit(long required, Action send) => _outbox.Add((required, send));

    /// <summary>An acknowledgement for <see cref="Up"/> (the predecessor) that may leave once the log is on disk
    /// up to <see cref="Required"/>.</summary>
    private readonly record struct PendingAck(long Required, FramedConnection Up, int Group, long Seq, string Key);

    /// <summary>An acknowledgement frame is closed and a new one started past this size.</summary>
    private const int AckFrameBytes = 32 * 1024;

    /// <summary>The log position after everything appended so far (0 without a log).</summary>
    private long LogEnd => _log?.End ?? 0;

    /// <summary>Called under the lock at the end of each handler: writes the log, sends forwards at once, and
    /// every other message as soon as the log is synced up to what it depends on (at once without fsync).</summary>
    private void Release()
    {
        if (_outbox.Count == 0 && _forward.Count == 0 && _acks.Count == 0 && (_log is null || !_log.HasPending))
            return;
        _log?.Write();
        if (_log is { WantsCompaction: true })
            CompactLog();
        if (_options.Fsync == FsyncPolicy.Always)
            _syncer.Kick();
        foreach (var send in _forward)
            send();
        _forward.Clear();
        foreach (var (required, send) in _outbox)
        {
            if (_options.Fsync != FsyncPolicy.Always || _syncer.Covers(required))
                send();
            else
                _syncer.Enqueue(required, send);
        }
        _outbox.Clear();
        foreach (var ack in _acks)
        {
            if (_options.Fsync != FsyncPolicy.Always || _syncer.Covers(ack.Required))
                _readyAcks.Add(ack);
            else
                _syncer.Enqueue(ack);
        }
        _acks.Clear();
        SendAcks(_readyAcks);
        _readyAcks.Clear();
    }

    /// <summary>Rewrites the log as this server's state (one record per key); everything appended is then on disk.</summary>
    private void CompactLog()
    {
        _log!.Compact(_groups.SelectMany(g => g.Value.Data.Select(d => (g.Key, d.Key, d.Value.Seq, d.Value.Value))));
        _syncer.MarkSynced(_log.End);
    }

    /// <summary>
    /// Group commit: fsync once for everything written, then send what waited on it, in order. A sync starts as
    /// soon as records are written (not when the first message waits for them), and the next one as soon as
    /// that ends if more was written meanwhile: a head or middle syncs a write while it travels down the chain
    /// and back, so the f + 1 replicas' fsyncs overlap instead of running one after the other on the way back
    /// (an acknowledgement is only queued once the one from downstream has arrived).
    /// </summary>
    private sealed class Syncer(ChainServer server) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _signal = new(0);
        private readonly List<(long Required, Action Send)> _waiting = [];
        private readonly List<PendingAck> _waitingAcks = [];
        private long _synced;
        private bool _signalled;
        private Task? _loop;

        /// <summary>
        /// True when the log is on disk up to <paramref name="required"/>. Messages may overtake others that wait
        /// for a later position: acknowledgements are cumulative per key, replies independent, and a key's
        /// messages depend on non-decreasing positions, so per-key order holds.
        /// </summary>
        public bool Covers(long required) => required <= _synced;

        /// <summary>Called under the lock: the log is on disk up to <paramref name="position"/> (a compaction synced it).</summary>
        public void MarkSynced(long position)
        {
            _synced = Math.Max(_synced, position);
            ReleaseCovered();
        }

        public void Enqueue(PendingAck ack)
        {
            _waitingAcks.Add(ack);
            Kick();
        }

        public void Enqueue(long required, Action send)
        {
            _waiting.Add((required, send));
            Kick();
        }

        /// <summary>Called under the lock: starts a sync unless one is running or everything written is on disk
        /// (a running one kicks the next itself when it ends). Whatever waits needs a written position past
        /// <see cref="_synced"/>, so "written but not synced" covers it.</summary>
        public void Kick()
        {
            if (server._log!.Written > _synced)
                Signal();
        }

        /// <summary>Called under the lock: sends, in order, what waited for a position the log is now synced to.</summary>
        private void ReleaseCovered()
        {
            var synced = _synced;
            var ready = _waiting.FindAll(w => w.Required <= synced);
            _waiting.RemoveAll(w => w.Required <= synced);
            foreach (var (_, send) in ready)
                send();
            var readyAcks = _waitingAcks.FindAll(a => a.Required <= synced);
            _waitingAcks.RemoveAll(a => a.Required <= synced);
            server.SendAcks(readyAcks);
        }

        private void Signal()
        {
            _loop ??= Task.Run(LoopAsync);
            if (_signalled)
                return;
            _signalled = true;
            _signal.Release();
        }

        private async Task LoopAsync()
        {
            while (!server._stop.IsCancellationRequested)
            {
                try
                {
                    await _signal.WaitAsync(server._stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                long target;
                lock (server._gate)
                {
                    _signalled = false;
                    target = server._log!.Written;
                    if (target <= _synced)
                        continue;
                }
                server._log!.Sync();
                lock (server._gate)
                {
                    _synced = Math.Max(_synced, target);
                    ReleaseCovered();
                    Kick();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_loop is not null)
                await _loop.ConfigureAwait(false);
            _signal.Dispose();
        }
    }

    // ---- controller session ----

    private async Task ControllerLoopAsync()
    {
        var backoff = TimeSpan.FromMilliseconds(10);
        while (!_stop.IsCancellationRequested)
        {
            FramedConnection? connection = null;
            try
            {
                connection = await FramedConnection.ConnectAsync(_options.Controller!, TimeSpan.FromSeconds(1), _stop.Token, _security, _identity).ConfigureAwait(false);
                connection.Start(HandleControllerFrameAsync);
                lock (_gate)
                    _controller = connection;
                var id = connection.NextRequestId();
                var reply = await connection.RequestAsync(id,
                    new FrameBuilder(OpCode.Register, id).I32(_options.ServerId).I32(EndPoint.Port).Build(),
                    TimeSpan.FromSeconds(2), _stop.Token).ConfigureAwait(false);
                AdoptFromReply(reply, "register");
                backoff = TimeSpan.FromMilliseconds(10);
                while (!_stop.IsCancellationRequested && !connection.Closed.IsCompleted)
                {
                    var sentAt = Stopwatch.GetTimestamp();
                    var hb = connection.NextRequestId();
                    var ack = await connection.RequestAsync(hb, new FrameBuilder(OpCode.Heartbeat, hb).I32(_options.ServerId).Build(),
                        TimeSpan.FromSeconds(5), _stop.Token).ConfigureAwait(false);
                    if (ack.Op == OpCode.Ok)
                    {
                        Volatile.Write(ref _leaseUntil, sentAt + (long)(_options.ReadLease.TotalSeconds * Stopwatch.Frequency));
                        // Anti-entropy: a push that was lost (a timeout, a loaded machine) is repaired within one heartbeat.
                        var controllerEpoch = ack.Reader().I64();
                        if (controllerEpoch > Epoch)
                        {
                            var get = connection.NextRequestId();
                            AdoptFromReply(await connection.RequestAsync(get, new FrameBuilder(OpCode.GetConfig, get).Build(),
                                TimeSpan.FromSeconds(5), _stop.Token).ConfigureAwait(false), "heartbeat");
                        }
                    }
                    ResendSyncDone();
                    await Task.Delay(_options.HeartbeatInterval, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException or OperationCanceledException or ProtocolException)
            {
                try
                {
                    await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 200));
            }
            finally
            {
                if (connection is not null)
                    await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>A SyncDone can be lost with a controller session; repeat it until the controller switches us in.</summary>
    private void ResendSyncDone()
    {
        lock (_gate)
        {
            if (_config is null)
                return;
            foreach (var (g, state) in _groups)
            {
                if (state.SyncComplete && g < _config.GroupCount && _config.Joining[g] == Me)
                    SendSyncDone(g, state.SnapshotEpoch);
            }
            Release();
        }
    }

    private bool HoldsReadLease => Stopwatch.GetTimestamp() < Volatile.Read(ref _leaseUntil);

    private void AdoptFromReply(Frame reply, string source)
    {
        if (reply.Op != OpCode.ConfigReply)
            throw new ProtocolException(ErrorCode.Malformed, $"Controller answered {reply.Op} to a registration.");
        var reader = reply.Reader();
        var config = ChainConfig.Read(ref reader);
        lock (_gate)
        {
            Adopt(config, source);
            Release();
        }
    }

    private ValueTask HandleControllerFrameAsync(FramedConnection connection, Frame frame)
    {
        if (frame.Op == OpCode.PushConfig)
        {
            var reader = frame.Reader();
            var config = ChainConfig.Read(ref reader);
            reader.End();
            lock (_gate)
            {
                Adopt(config, "push");
                Emit(connection, new FrameBuilder(OpCode.Ok, frame.RequestId).I64(config.Epoch).Build());
                Release();
            }
        }
        return ValueTask.CompletedTask;
    }

    private void ReplayRecord(int group, byte kind, long seq, string key, byte[]? value)
    {
        if (kind == ServerLog.KindReset)
        {
            _groups.Remove(group);
            return;
        }
        var state = Group(group);
        state.Data[key] = new Entry(seq, value);
    }

    private GroupState Group(int group)
    {
        if (!_groups.TryGetValue(group, out var state))
            _groups[group] = state = new GroupState(group);
        return state;
    }
}
