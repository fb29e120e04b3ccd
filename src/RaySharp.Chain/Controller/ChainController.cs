using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using RaySharp.Chain.Diagnostics;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Controller;

/// <summary>
/// The chain controller: membership, heartbeat failure detection, fast failover (a failed server is cut
/// out of every chain at once), failure recovery and rebalancing (missing replicas join at the tail after
/// pre-synchronisation, then an atomic switch-over), all as numbered configurations logged with fsync
/// before they are pushed.
/// </summary>
public sealed class ChainController : IAsyncDisposable
{
    /// <summary>How long after a session closed the controller re-probes the server's port every millisecond.</summary>
    private static readonly TimeSpan QuickReprobeWindow = TimeSpan.FromMilliseconds(20);

    private readonly ChainControllerOptions _options;
    private readonly object _gate = new();
    private readonly Dictionary<int, Session> _sessions = [];
    /// <summary>Client connections subscribed to configurations (<see cref="OpCode.WatchConfig"/>), with their request id.</summary>
    private readonly Dictionary<FramedConnection, ulong> _configWatchers = [];
    private readonly HashSet<int> _dead = [];
    private readonly HashSet<int> _leaving = [];
    private readonly Dictionary<int, long> _joinEpoch = [];
    /// <summary>Groups whose joiner reported its snapshot complete (server, snapshot epoch), not yet switched in.</summary>
    private readonly Dictionary<int, (int Server, long Epoch)> _synced = [];
    /// <summary>A <see cref="SwitchSyncedJoiners"/> call is queued.</summary>
    private bool _switchScheduled;
    /// <summary>Configurations to push, in commit order; a null configuration asks the push loop to reconcile.</summary>
    private readonly Channel<(ChainConfig? Config, int[] Departing)> _pushes = Channel.CreateUnbounded<(ChainConfig?, int[])>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly ControllerLog? _log;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private readonly bool _resumed;
    private FrameListener? _listener;
    private readonly ConnectionSecurity _security;
    private ChainConfig _config;
    /// <summary>Configurations in <see cref="_pushes"/> not yet pushed (under the lock).</summary>
    private int _queuedPushes;
    private Task? _monitor;
    private Task? _pusher;

    private sealed record Session(FramedConnection Connection)
    {
        public long LastHeartbeat { get; set; } = Stopwatch.GetTimestamp();
    }

    private ChainController(ChainControllerOptions options)
    {
        _options = options;
        _security = new ConnectionSecurity(options.Token, options.Tls, options.Logger);
        if (options.DataDirectory is not null)
            _log = new ControllerLog(options.DataDirectory);
        _config = _log?.Last ?? new ChainConfig(0, options.Replicas, new Dictionary<int, IPEndPoint>(),
            [.. Enumerable.Range(0, options.GroupCount).Select(_ => Array.Empty<int>())],
            [.. Enumerable.Repeat(ChainConfig.NoJoiner, options.GroupCount)]);
        _resumed = _log?.Last is not null;
    }

    /// <summary>The address servers and clients connect to.</summary>
    public IPEndPoint EndPoint => _listener!.EndPoint;

    /// <summary>The epoch of the current configuration.</summary>
    public long Epoch
    {
        get
        {
            lock (_gate)
                return _config.Epoch;
        }
    }

    /// <summary>Starts the controller, resuming from its log when <see cref="ChainControllerOptions.DataDirectory"/> holds one.</summary>
    public static Task<ChainController> StartAsync(ChainControllerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        ChainTrace.SetRole("controller");
        var controller = new ChainController(options);
        if (controller._config.GroupCount != options.GroupCount || controller._config.Replicas != options.Replicas)
        {
            throw new ArgumentException($"The controller log holds a cluster of {controller._config.GroupCount} groups × {controller._config.Replicas} replicas, " +
                $"but the options ask for {options.GroupCount} × {options.Replicas}; use the same settings or a fresh data directory.");
        }
        controller._listener = new FrameListener(options.ListenEndPoint, controller.OnAccepted, controller._security);
        WarmUpProbe();
        controller._monitor = Task.Run(controller.MonitorLoopAsync);
        controller._pusher = Task.Run(controller.PushLoopAsync);
        return Task.FromResult(controller);
    }

    /// <summary>Stops the controller. Servers keep serving with their last configuration.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        _pushes.Writer.TryComplete();
        if (_listener is not null)
            await _listener.DisposeAsync().ConfigureAwait(false);
        List<FramedConnection> sessions;
        lock (_gate)
            sessions = [.. _sessions.Values.Select(s => s.Connection)];
        foreach (var connection in sessions)
            await connection.DisposeAsync().ConfigureAwait(false);
        if (_monitor is not null)
            await _monitor.ConfigureAwait(false);
        if (_pusher is not null)
            await _pusher.ConfigureAwait(false);
        lock (_gate)
            _log?.Dispose(); // under the lock: a queued SwitchSyncedJoiners checks _stop under it before committing
        _stop.Dispose();
    }

    /// <summary>The identity server <paramref name="id"/> proves in the token handshake.</summary>
    internal static string ServerIdentity(int id) => "server/" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void OnAccepted(FramedConnection connection)
    {
        connection.Start(HandleAsync);
        _ = connection.Closed.ContinueWith(_ => OnClosedAsync(connection), TaskScheduler.Default).Unwrap();
    }

    private ValueTask HandleAsync(FramedConnection connection, Frame frame)
    {
        try
        {
            var reader = frame.Reader();
            switch (frame.Op)
            {
                case OpCode.Register:
                    {
                        var id = reader.I32();
                        var port = reader.I32();
                        reader.End();
                        if (id < 0 || port is <= 0 or > 65535)
                            throw new ProtocolException(ErrorCode.Malformed, $"Registration of server {id} on port {port} is invalid.");
                        if (connection.PeerIdentity is { } proved && proved != ServerIdentity(id))
                        {
                            _security.Refusals.Refused(connection.Remote, $"a connection authenticated as '{proved}' tried to register as server {id}");
                            throw new ProtocolException(ErrorCode.Malformed, $"This connection authenticated as '{proved}', not as server {id}; a server registers as itself.");
                        }
                        Register(connection, frame.RequestId, id, new IPEndPoint(connection.Remote?.Address ?? IPAddress.Loopback, port));
                        break;
                    }
                case OpCode.Heartbeat:
                    {
                        var id = reader.I32();
                        reader.End();
                        lock (_gate)
                        {
                            if (_sessions.TryGetValue(id, out var session) && session.Connection == connection && !_dead.Contains(id))
                            {
                                session.LastHeartbeat = Stopwatch.GetTimestamp();
                                connection.Send(new FrameBuilder(OpCode.Ok, frame.RequestId).I64(_config.Epoch).Build());
                            }
                            else
                            {
                                connection.SendError(frame.RequestId, ErrorCode.Unavailable, $"Server {id} has no live session; register again.");
                                connection.Close();
                            }
                        }
                        break;
                    }
                case OpCode.SyncDone:
                    {
                        var id = reader.I32();
                        var epoch = reader.I64();
                        var g = reader.U16();
                        reader.End();
                        lock (_gate)
                        {
                            if (g < _config.GroupCount)
                                _synced[g] = (id, epoch);
                            if (!_switchScheduled)
                            {
                                _switchScheduled = true;
                                ThreadPool.UnsafeQueueUserWorkItem(_ => SwitchSyncedJoiners(), null);
                            }
                        }
                        break;
                    }
                case OpCode.GetConfig:
                    reader.End();
                    // Without the lock: a configuration is immutable once committed, and a commit holds the lock
                    // through its fsync, which must not hold up the clients looking for the new chains.
                    connection.Send(Volatile.Read(ref _config).WriteTo(new FrameBuilder(OpCode.ConfigReply, frame.RequestId, 1024)).Build());
                    break;
                case OpCode.WatchConfig:
                    reader.End();
                    lock (_gate)
                    {
                        // The reply and every later commit's push are sent under the lock: none is missed.
                        _configWatchers[connection] = frame.RequestId;
                        connection.Send(_config.WriteTo(new FrameBuilder(OpCode.ConfigReply, frame.RequestId, 1024)).Build());
                    }
                    break;
                case OpCode.RemoveServer:
                    {
                        var id = reader.I32();
                        reader.End();
                        lock (_gate)
                        {
                            _leaving.Add(id);
                            Reconcile();
                            connection.Send(new FrameBuilder(OpCode.Ok, frame.RequestId).I64(_config.Epoch).Build());
                        }
                        break;
                    }
                case OpCode.Ok or OpCode.Error:
                    break;
                default:
                    throw new ProtocolException(ErrorCode.UnknownOpCode, $"The controller does not handle operation code {(byte)frame.Op}.");
            }
        }
        catch (ProtocolException e)
        {
            connection.SendError(frame.RequestId, e.Code, e.Message);
        }
        return ValueTask.CompletedTask;
    }

    private void Register(FramedConnection connection, ulong requestId, int id, IPEndPoint endPoint)
    {
        lock (_gate)
        {
            if (_sessions.TryGetValue(id, out var previous) && previous.Connection != connection)
                previous.Connection.Close();
            connection.Tag = id;
            _sessions[id] = new Session(connection);
            _dead.Remove(id);
            if (!_config.Servers.TryGetValue(id, out var known) || !known.Equals(endPoint))
            {
                var servers = new Dictionary<int, IPEndPoint>(_config.Servers) { [id] = endPoint };
                Commit(CopyChains(), (int[])_config.Joining.Clone(), [], servers);
            }
            connection.Send(_config.WriteTo(new FrameBuilder(OpCode.ConfigReply, requestId, 1024)).Build());
            Reconcile();
        }
    }

    private async Task OnClosedAsync(FramedConnection connection)
    {
        lock (_gate)
            _configWatchers.Remove(connection);
        if (connection.Tag is not int id)
            return;
        IPEndPoint? endPoint;
        lock (_gate)
        {
            if (!_sessions.TryGetValue(id, out var session) || session.Connection != connection)
                return;
            _sessions.Remove(id);
            _config.Servers.TryGetValue(id, out endPoint);
        }
        if (ChainTrace.Enabled)
            ChainTrace.Write($"session-closed server={id}");
        // The session dropped. A process that died refuses connections on its port (once the kernel has torn
        // it down): fail it then rather than after the heartbeat timeout. One that still listens reconnects
        // within milliseconds; if it does neither, the heartbeat timeout decides.
        if (endPoint is null)
            return;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < _options.FailureTimeout && !_stop.IsCancellationRequested)
        {
            lock (_gate)
            {
                if (_sessions.ContainsKey(id) || _dead.Contains(id))
                    return;
            }
            if (!AcceptsConnections(endPoint))
            {
                if (ChainTrace.Enabled)
                    ChainTrace.Write($"probe-refused server={id} after_ms={clock.Elapsed.TotalMilliseconds:0.0}");
                lock (_gate)
                {
                    if (!_sessions.ContainsKey(id))
                        Fail(id);
                }
                return;
            }
            if (ChainTrace.Enabled)
                ChainTrace.Write($"probe-accepted server={id} after_ms={clock.Elapsed.TotalMilliseconds:0.0}");
            // A killed process's sockets do not all close at once: its connections often close a moment
            // before its listening socket (which then still completes handshakes), so the first probe can be
            // accepted. For the first few ms re-probe every millisecond on this thread (Thread.Sleep wakes on
            // time where Task.Delay waits for the timer thread and then for a pool thread: 7-16 ms instead of
            // 5 in the traces on a loaded machine); after that every 5 ms without holding a thread.
            if (clock.Elapsed < QuickReprobeWindow)
            {
                Thread.Sleep(1);
                continue;
            }
            try
            {
                await Task.Delay(5, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Probes a port that is bound but does not listen, so it refuses: the process's first probe (socket setup,
    /// the first <see cref="SocketException"/> thrown and caught) is paid at start, not on the first failover's
    /// path, where the probe phase took 2.3 and 15.9 ms in two traced runs against 0.1–0.2 ms later.
    /// </summary>
    private static void WarmUpProbe()
    {
        try
        {
            using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _ = AcceptsConnections((IPEndPoint)closed.LocalEndPoint!);
        }
        catch (SocketException)
        {
            // Only a warm-up: the real probes do not depend on it.
        }
    }

    /// <summary>
    /// One connection attempt to a server's port: false when it is refused (nothing listens: the process is
    /// gone). Synchronous, so its answer does not wait for the thread pool: on loopback a refusal or an
    /// accept arrives within the connect call or microseconds after, and a busy pool (a loaded machine) would
    /// otherwise let the 50 ms bound fire first and report a dead server as alive.
    /// </summary>
    private static bool AcceptsConnections(IPEndPoint endPoint)
    {
        using var probe = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        try
        {
            probe.Connect(endPoint);
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false; // nothing listens: the process is gone
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // Wait for the handshake's outcome (at most 50 ms; no answer is not proof of death: the heartbeat
            // timeout decides then).
            if (!probe.Poll(50_000, SelectMode.SelectWrite) && !probe.Poll(0, SelectMode.SelectError))
                return true;
            return (SocketError)(int)probe.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! != SocketError.ConnectionRefused;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private async Task MonitorLoopAsync()
    {
        var period = TimeSpan.FromTicks(_options.FailureTimeout.Ticks / 5);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var now = Stopwatch.GetTimestamp();
            var timeout = (long)(_options.FailureTimeout.TotalSeconds * Stopwatch.Frequency);
            lock (_gate)
            {
                if (now - _startedAt < timeout)
                    continue; // after a restart, give every server one timeout to reconnect (see InRestartGrace)
                foreach (var id in _config.Servers.Keys.ToList())
                {
                    if (_dead.Contains(id))
                        continue;
                    if (!_sessions.TryGetValue(id, out var session) || now - session.LastHeartbeat > timeout)
                    {
                        if (ChainTrace.Enabled)
                            ChainTrace.Write($"heartbeat-timeout server={id}");
                        session?.Connection.Close();
                        _sessions.Remove(id);
                        Fail(id);
                    }
                }
                Reconcile();
            }
        }
    }

    /// <summary>Fast failover: cut the server out of every chain it is in (never emptying a chain).</summary>
    private void Fail(int id)
    {
        if (!_dead.Add(id))
            return;
        if (ChainTrace.Enabled)
            ChainTrace.Write($"fail server={id}");
        var chains = CopyChains();
        var joining = (int[])_config.Joining.Clone();
        for (var g = 0; g < chains.Length; g++)
        {
            if (chains[g].Length > 1 && chains[g].Contains(id))
                chains[g] = [.. chains[g].Where(s => s != id)];
            if (joining[g] == id)
                joining[g] = ChainConfig.NoJoiner;
        }
        Commit(chains, joining, []);
        // Recovery (naming joiners, a configuration of its own) waits RecoveryDelay, then runs on the push loop
        // after what is queued there: nothing on the failover's path waits for it, and its configurations do
        // not reach the servers while the writes the failure stalled drain on the shortened chains.
        _recoveryNotBefore = Stopwatch.GetTimestamp() + (long)(_options.RecoveryDelay.TotalSeconds * Stopwatch.Frequency);
        ReconcileLater();
    }

    /// <summary>Until this timestamp (set by a failover) <see cref="Reconcile"/> names no joiner.</summary>
    private long _recoveryNotBefore;

    /// <summary>A reconciliation is scheduled for the end of the recovery delay.</summary>
    private bool _reconcileScheduled;

    /// <summary>
    /// Called under the lock: reconciles on the push loop once <see cref="_recoveryNotBefore"/> has passed. A timer
    /// may fire a little before a deadline read from another clock, so the push loop's <see cref="Reconcile"/>
    /// re-arms this if it is early; without that, recovery would wait for the monitor's next round.
    /// </summary>
    private void ReconcileLater()
    {
        if (_reconcileScheduled || _stop.IsCancellationRequested)
            return;
        var left = _recoveryNotBefore - Stopwatch.GetTimestamp();
        if (left <= 0)
        {
            _pushes.Writer.TryWrite((null, [])); // no delay (RecoveryDelay 0)
            return;
        }
        _reconcileScheduled = true;
        _ = Task.Delay(TimeSpan.FromSeconds(left / (double)Stopwatch.Frequency) + TimeSpan.FromMilliseconds(1), _stop.Token).ContinueWith(_ =>
        {
            lock (_gate)
                _reconcileScheduled = false;
            _pushes.Writer.TryWrite((null, []));
        }, TaskScheduler.Default);
    }

    /// <summary>
    /// True during the first failure timeout of a controller that resumed from its log. Servers re-register
    /// one by one; reconciling before they all have would treat the ones not yet back as gone and cut them
    /// out of chains they still serve.
    /// </summary>
    private bool InRestartGrace => _resumed && Stopwatch.GetElapsedTime(_startedAt) < _options.FailureTimeout;

    private HashSet<int> LiveServers() => [.. _config.Servers.Keys.Where(id => _sessions.ContainsKey(id) && !_dead.Contains(id))];

    /// <summary>
    /// Failure recovery and rebalancing: moves every chain towards the f + 1 servers consistent hashing
    /// picks among live servers, one step per group per configuration: first a missing server joins
    /// (pre-sync from the tail), and once all are in, a surplus server leaves.
    /// </summary>
    private void Reconcile()
    {
        if (InRestartGrace && _config.Servers.Keys.Any(id => !_sessions.ContainsKey(id) && !_dead.Contains(id)))
            return; // a resumed controller changes no chain until every server re-registered or the grace ended
        if (Stopwatch.GetTimestamp() < _recoveryNotBefore)
        {
            ReconcileLater(); // just after a failover: the push loop reconciles once RecoveryDelay is over (see Fail)
            return;
        }
        var live = LiveServers();
        var eligible = live.Where(id => !_leaving.Contains(id)).ToList();
        var chains = CopyChains();
        var joining = (int[])_config.Joining.Clone();
        var departing = new HashSet<int>();
        var changed = false;
        if (chains.All(c => c.Length == 0))
        {
            if (eligible.Count < (_options.InitialServers ?? _options.Replicas))
                return;
            for (var g = 0; g < chains.Length; g++)
                chains[g] = Placement.DesiredChain(g, eligible, _config.Replicas);
            Commit(chains, joining, []);
            return;
        }
        for (var g = 0; g < chains.Length; g++)
        {
            var chain = chains[g];
            if (chain.Length == 0 || !live.Contains(chain[^1]))
                continue;
            if (joining[g] >= 0)
            {
                if (live.Contains(joining[g]))
                    continue;
                joining[g] = ChainConfig.NoJoiner;
                changed = true;
            }
            var desired = Placement.DesiredChain(g, eligible, _config.Replicas);
            var missing = desired.Where(s => !chain.Contains(s)).ToList();
            if (missing.Count > 0)
            {
                joining[g] = missing[0];
                changed = true;
                continue;
            }
            var surplus = chain.Where(s => !desired.Contains(s)).ToList();
            if (surplus.Count > 0 && chain.Length > 1)
            {
                chains[g] = [.. chain.Where(s => s != surplus[0])];
                if (live.Contains(surplus[0]))
                    departing.Add(surplus[0]);
                changed = true;
            }
        }
        if (changed)
            Commit(chains, joining, [.. departing]);
    }

    /// <summary>
    /// Switches in, as one configuration, every joiner whose pre-synchronisation finished since the last switch.
    /// A recovery or a rebalance syncs dozens of groups at once and their SyncDone reports arrive within a few
    /// milliseconds; switching each in a configuration of its own made every server adopt, and every client
    /// refresh to, dozens of configurations while the chains carried the load. Reports that arrive while this
    /// commit is logged (fsync, under the lock) wait for it and are switched by the next call: a group commit.
    /// </summary>
    private void SwitchSyncedJoiners()
    {
        lock (_gate)
        {
            _switchScheduled = false;
            if (_stop.IsCancellationRequested)
                return; // disposed: the log is (or is about to be) closed
            int[][]? chains = null;
            int[]? joining = null;
            foreach (var (g, (id, epoch)) in _synced)
            {
                // A SyncDone from an earlier join of the same server is stale: the snapshot must have been taken
                // at or after the epoch that made the server the joiner.
                if (_config.Joining[g] != id || _dead.Contains(id) || epoch < _joinEpoch.GetValueOrDefault(g))
                    continue;
                chains ??= CopyChains();
                joining ??= (int[])_config.Joining.Clone();
                chains[g] = [.. chains[g], id];
                joining[g] = ChainConfig.NoJoiner;
            }
            _synced.Clear();
            if (chains is null)
                return;
            Commit(chains, joining!, []);
            Reconcile();
        }
    }

    private int[][] CopyChains() => [.. _config.Chains.Select(c => (int[])c.Clone())];

    /// <summary>Makes a new configuration durable, then queues it for every server (departing ones first).</summary>
    private void Commit(int[][] chains, int[] joining, int[] departing, IReadOnlyDictionary<int, IPEndPoint>? servers = null)
    {
        var config = _config.With(_config.Epoch + 1, chains, joining, servers);
        for (var g = 0; g < joining.Length; g++)
        {
            if (joining[g] >= 0 && joining[g] != _config.Joining[g])
                _joinEpoch[g] = config.Epoch;
        }
        var appendStart = Stopwatch.GetTimestamp();
        _log?.Append(config);
        if (ChainTrace.Enabled)
            ChainTrace.Write($"commit epoch={config.Epoch} log_ms={Stopwatch.GetElapsedTime(appendStart).TotalMilliseconds:0.00}");
        Volatile.Write(ref _config, config);
        // Clients see a configuration as soon as GetConfig would show it.
        foreach (var (watcher, requestId) in _configWatchers)
            watcher.Send(config.WriteTo(new FrameBuilder(OpCode.PushConfig, requestId, 1024)).Build());
        // Pushed from here (a queued frame per session) unless an earlier configuration with a departing
        // server is still being pushed: then this one waits its turn, so no server sees it before the
        // departing server has stopped serving. A failover is not kept waiting for the push loop's turn.
        if (departing.Length == 0 && _queuedPushes == 0)
        {
            foreach (var (id, session) in _sessions)
            {
                if (!_options.FaultSkipPushTo.Contains(id))
                    PushAndForget(session.Connection, config);
            }
            return;
        }
        _queuedPushes++;
        _pushes.Writer.TryWrite((config, departing));
    }

    private async Task PushLoopAsync()
    {
        while (await _pushes.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Everything queued goes out as one push of the newest configuration: a server may skip epochs
            // (it adopts the newest, as after a lost push), and every server departing in any of them gets it
            // first. A backlog (a rebalance commits one configuration per group) thus costs one round trip
            // to the departing servers, not one per configuration.
            ChainConfig? newest = null;
            var departing = new HashSet<int>();
            var configs = 0;
            var reconcile = false;
            while (_pushes.Reader.TryRead(out var item))
            {
                if (item.Config is null)
                {
                    reconcile = true;
                    continue;
                }
                newest = item.Config;
                departing.UnionWith(item.Departing);
                configs++;
            }
            if (newest is not null)
            {
                await PushQueuedAsync(newest, departing).ConfigureAwait(false);
                lock (_gate)
                    _queuedPushes -= configs;
            }
            if (reconcile)
            {
                lock (_gate)
                    Reconcile();
            }
        }
    }

    private async Task PushQueuedAsync(ChainConfig config, HashSet<int> departing)
    {
        List<(int Id, FramedConnection Connection)> targets;
        lock (_gate)
            targets = [.. _sessions.Where(s => !_options.FaultSkipPushTo.Contains(s.Key)).Select(s => (s.Key, s.Value.Connection))];
        // A server leaving a chain alive must stop serving it before its neighbours take over.
        foreach (var (id, connection) in targets.Where(t => departing.Contains(t.Id)))
        {
            try
            {
                await Push(connection, config).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or TimeoutException or OperationCanceledException)
            {
                lock (_gate)
                    Fail(id);
            }
        }
        foreach (var (_, connection) in targets.Where(t => !departing.Contains(t.Id)))
            PushAndForget(connection, config);
    }

    private void PushAndForget(FramedConnection connection, ChainConfig config) =>
        _ = Push(connection, config).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);

    private Task<Frame> Push(FramedConnection connection, ChainConfig config)
    {
        if (ChainTrace.Enabled)
            ChainTrace.Write($"push epoch={config.Epoch} to={connection.Tag}");
        var id = connection.NextRequestId();
        return connection.RequestAsync(id, config.WriteTo(new FrameBuilder(OpCode.PushConfig, id, 1024)).Build(), TimeSpan.FromSeconds(1), _stop.Token).AsTask();
    }
}
