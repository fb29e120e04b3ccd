using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using RaySharp.Chain.Diagnostics;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Client;

/// <summary>
/// A client of a chain cluster: writes go to a group's head, reads to its tail; requests are pipelined
/// over one connection per server, and the client follows configuration changes (failover, recovery,
/// rebalancing) by itself. Thread-safe; share one instance.
/// </summary>
/// <example>
/// <code>
/// await using var chain = await ChainClient.ConnectAsync(new ChainClientOptions { Controller = IPEndPoint.Parse("127.0.0.1:7000") });
/// long version = await chain.PutAsync("config/model", "v7"u8.ToArray());
/// ChainEntry entry = await chain.GetAsync("config/model");
/// var swapped = await chain.CompareAndSwapAsync("config/model", entry.Version, "v8"u8.ToArray());
/// </code>
/// </example>
public sealed partial class ChainClient : IAsyncDisposable
{
    /// <summary>How long after an operation's first attempt its retries stay at most 2 ms apart.</summary>
    private static readonly TimeSpan FastRetryWindow = TimeSpan.FromMilliseconds(250);

    private readonly ChainClientOptions _options;
    private readonly object _gate = new();
    private readonly Dictionary<int, Task<FramedConnection>> _connections = [];
    private volatile Dictionary<int, Task<FramedConnection>> _openConnections = [];
    private readonly CancellationTokenSource _stop = new();
    private ChainConfig? _config;
    private Task<ChainConfig>? _refreshing;
    private int _nextReplica;

    private ChainClient(ChainClientOptions options)
    {
        _options = options;
        _security = new ConnectionSecurity(options.Token, options.Tls, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    /// <summary>The token and TLS every connection of this client runs before its first frame.</summary>
    private readonly ConnectionSecurity _security;

    /// <summary>Connects to the controller and loads the cluster's configuration.</summary>
    public static async Task<ChainClient> ConnectAsync(ChainClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var client = new ChainClient(options);
        await FramedConnection.WarmUpRefusedConnectAsync().ConfigureAwait(false);
        var deadline = Stopwatch.GetTimestamp() + (long)(options.OperationTimeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                await client.RefreshAsync(cancellationToken).ConfigureAwait(false);
                return client;
            }
            catch (ChainUnavailableException e) when (e.InnerException is HandshakeFailedException { Refused: true } refused)
            {
                await client.DisposeAsync().ConfigureAwait(false);
                throw new ChainAuthenticationException($"{refused.Message} Give the client the cluster's token (ChainClientOptions.Token) and TLS settings.", refused);
            }
            catch (ChainUnavailableException) when (Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads a key at its group's tail: the latest committed version.</summary>
    public async Task<ChainEntry> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var flags = _options.UnsafeReadFromAnyReplica ? (byte)1 : (byte)0;
        var reply = await SendAsync(key, write: false, flags, static (id, key, flags) => new FrameBuilder(OpCode.Get, id, 8 + key.Length).Key(key).U8(flags).Build(), cancellationToken).ConfigureAwait(false);
        var (seq, flag, value) = ReadOk(reply);
        return new ChainEntry(flag == 1 ? value : null, seq);
    }

    /// <summary>Writes a value; returns the key's new version once the write is committed at the tail.</summary>
    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        CheckValue(value);
        var reply = await SendAsync(key, write: true, value, static (id, key, value) => new FrameBuilder(OpCode.Put, id, 16 + key.Length + value.Length).Key(key).Bytes(value.Span).Build(), cancellationToken).ConfigureAwait(false);
        return ReadOk(reply).Seq;
    }

    /// <summary>Deletes a key (its version still advances); <see cref="ChainWriteResult.Succeeded"/> says whether it existed.</summary>
    public async Task<ChainWriteResult> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        var reply = await SendAsync(key, write: true, id => new FrameBuilder(OpCode.Delete, id, 8 + key.Length).Key(key).Build(), cancellationToken).ConfigureAwait(false);
        var (seq, flag, _) = ReadOk(reply);
        return new ChainWriteResult(flag == 1, seq);
    }

    /// <summary>Writes <paramref name="value"/> only if the key's version is <paramref name="expectedVersion"/>
    /// (0: the key was never written).</summary>
    public async Task<ChainWriteResult> CompareAndSwapAsync(string key, long expectedVersion, ReadOnlyMemory<byte> value, CancellationToken cancellationToken = default)
    {
        CheckKey(key);
        CheckValue(value);
        ArgumentOutOfRangeException.ThrowIfNegative(expectedVersion);
        var reply = await SendAsync(key, write: true, id => new FrameBuilder(OpCode.Cas, id, 24 + key.Length + value.Length).Key(key).I64(expectedVersion).Bytes(value.Span).Build(), cancellationToken).ConfigureAwait(false);
        var (seq, flag, _) = ReadOk(reply);
        return new ChainWriteResult(flag == 1, seq);
    }

    /// <summary>Closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
            return;
        _stop.Cancel();
        List<Task<FramedConnection>> connections;
        lock (_gate)
        {
            connections = [.. _connections.Values];
            if (_controllerLink is not null)
                connections.Add(Task.FromResult(_controllerLink));
        }
        foreach (var pending in connections)
        {
            try
            {
                await (await pending.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
    }

    private static void CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var bytes = Encoding.UTF8.GetByteCount(key);
        if (bytes == 0 || bytes > ChainLimits.MaxKeyBytes)
            throw new ArgumentException($"A key must be 1 to {ChainLimits.MaxKeyBytes} UTF-8 bytes (got {bytes}).", nameof(key));
        if (key[0] == '\0')
            throw new ArgumentException("Keys starting with U+0000 are reserved for leases and locks.", nameof(key));
    }

    private static void CheckValue(ReadOnlyMemory<byte> value)
    {
        if (value.Length > ChainLimits.MaxValueBytes)
            throw new ArgumentException($"A value must be at most {ChainLimits.MaxValueBytes} bytes (got {value.Length}); store large data elsewhere and keep a reference here.", nameof(value));
    }

    private static (long Seq, byte Flag, byte[] Value) ReadOk(Frame reply)
    {
        var reader = reply.Reader();
        var seq = reader.I64();
        var flag = reader.U8();
        var value = reader.Bytes();
        reader.End();
        return (seq, flag, value);
    }

    /// <summary>Sends one request to the right server, following configuration changes until the operation timeout.</summary>
    private ValueTask<Frame> SendAsync(string key, bool write, Func<ulong, OutFrame> build, CancellationToken cancellationToken) =>
        SendAsync(key, write, build, static (id, _, build) => build(id), cancellationToken);

    /// <summary>As above, with the frame built from <paramref name="state"/> by a static <paramref name="build"/>: the hot
    /// operations (get, put) then allocate no closure per request, and the state machine comes from a pool.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Frame> SendAsync<TState>(string key, bool write, TState state, Func<ulong, string, TState, OutFrame> build, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // The first retry refreshes the configuration at once; later ones pause 1-2 ms while a failover is
        // likely in progress (the controller acts within milliseconds of a server's sockets closing), then
        // back off to 10 ms so a long outage does not hammer the controller.
        var backoff = TimeSpan.Zero;
        string? lastProblem = null;
        var attempt = 0;
        while (true)
        {
            attempt++;
            if (attempt > 1 && Stopwatch.GetElapsedTime(started) > _options.OperationTimeout)
                throw new ChainUnavailableException($"No server completed the {(write ? "write" : "read")} of '{key}' within {_options.OperationTimeout.TotalSeconds:0.#} s ({lastProblem}); check that the controller and a chain for the key are up.");
            var config = _config ?? await RefreshAsync(cancellationToken).ConfigureAwait(false);
            var g = Placement.GroupOf(key, config.GroupCount);
            var target = Target(config, g, write);
            if (target < 0)
            {
                lastProblem = Traced(key, started, $"group {g} has no serving server at epoch {config.Epoch}");
                await PauseAndRefreshAsync(backoff, config.Epoch, cancellationToken).ConfigureAwait(false);
                backoff = Grow(backoff, started);
                continue;
            }
            FramedConnection connection;
            try
            {
                connection = await ConnectionTo(target, config).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                lastProblem = Traced(key, started, $"server {target} unreachable: {e.Message}");
                Forget(target);
                await PauseAndRefreshAsync(backoff, config.Epoch, cancellationToken).ConfigureAwait(false);
                backoff = Grow(backoff, started);
                continue;
            }
            var id = connection.NextRequestId();
            Frame reply;
            if (attempt > 1 && ChainTrace.Enabled)
                ChainTrace.Write($"retry key={key} g={g} to={target} epoch={config.Epoch} attempt={attempt} ms={Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.00}");
            try
            {
                reply = await connection.RequestAsync(id, build(id, key, state), _options.AttemptTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or TimeoutException)
            {
                Forget(target);
                if (ChainTrace.Enabled)
                    ChainTrace.Write($"request-failed key={key} g={g} to={target} epoch={config.Epoch} ms={Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.00} error={e.GetType().Name}");
                if (write && (e is not ConnectionClosedException closed || closed.Sent))
                    throw new ChainIndeterminateException($"The write of '{key}' reached server {target} but no reply came back ({e.Message}); it may or may not have been applied. Read the key before retrying.", e);
                lastProblem = $"server {target}: {e.Message}";
                await PauseAndRefreshAsync(backoff, config.Epoch, cancellationToken).ConfigureAwait(false);
                backoff = Grow(backoff, started);
                continue;
            }
            if (reply.Op != OpCode.Error)
            {
                if (attempt > 1 && ChainTrace.Enabled)
                    ChainTrace.Write($"ok-after-retry key={key} g={g} to={target} epoch={config.Epoch} attempts={attempt} ms={Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.00}");
                return reply;
            }
            var reader = reply.Reader();
            var code = (ErrorCode)reader.U8();
            var message = reader.Text();
            switch (code)
            {
                case ErrorCode.NotHead or ErrorCode.NotTail:
                case ErrorCode.Unavailable when !write:
                    lastProblem = Traced(key, started, message);
                    await PauseAndRefreshAsync(backoff, config.Epoch, cancellationToken).ConfigureAwait(false);
                    backoff = Grow(backoff, started);
                    continue;
                case ErrorCode.Unavailable:
                    throw new ChainIndeterminateException(message);
                default:
                    throw new ChainRequestException($"Server {target} rejected the request on '{key}': {message}");
            }
        }
    }

    private static string Traced(string key, long started, string problem)
    {
        if (ChainTrace.Enabled)
            ChainTrace.Write($"attempt-failed key={key} ms={Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.00} why={problem}");
        return problem;
    }

    private static TimeSpan Grow(TimeSpan backoff, long started) =>
        TimeSpan.FromMilliseconds(Math.Clamp(backoff.TotalMilliseconds * 2, 1, Stopwatch.GetElapsedTime(started) < FastRetryWindow ? 2 : 10));


    private int Target(ChainConfig config, int g, bool write)
    {
        var chain = config.Chains[g];
        if (chain.Length == 0)
            return -1;
        if (write)
            return chain[0];
        if (_options.UnsafeReadFromAnyReplica)
            return chain[(int)((uint)Interlocked.Increment(ref _nextReplica) % (uint)chain.Length)];
        return chain[^1];
    }

    /// <summary>Before a retry: nothing when a configuration newer than <paramref name="epoch"/> (the one the
    /// failed attempt used) has arrived meanwhile (the controller pushes them); else pause and fetch one.</summary>
    private async Task PauseAndRefreshAsync(TimeSpan pause, long epoch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_config is not null && _config.Epoch > epoch)
                return;
        }
        if (pause > TimeSpan.Zero)
            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChainUnavailableException)
        {
            // keep the configuration we have; the next attempt retries
        }
    }

    private Task<FramedConnection> ConnectionTo(int server, ChainConfig config)
    {
        // Every request passes here: an open connection is found without the lock, in a copy of the table
        // that is replaced whenever the table changes (connect, forget).
        if (_openConnections.TryGetValue(server, out var open) && open.IsCompletedSuccessfully && !open.Result.Closed.IsCompleted)
            return open;
        lock (_gate)
        {
            if (_connections.TryGetValue(server, out var existing) && !(existing.IsCompleted && (existing.IsFaulted || existing.IsCanceled || existing.Result.Closed.IsCompleted)))
                return existing;
            var endPoint = config.Servers[server];
            var connecting = ConnectAsync(endPoint);
            _connections[server] = connecting;
            _openConnections = new(_connections);
            return connecting;
        }
    }

    private async Task<FramedConnection> ConnectAsync(IPEndPoint endPoint)
    {
        // Called under the lock, which must hold the attempt in the table before anyone else looks; the connect
        // itself runs after the lock is released. A refused connect fails synchronously with an exception, and the
        // first in a process took 9 ms idle and 38 ms during a failover (traced): held under the lock, it kept the
        // configuration push that would have redirected every waiting request out for as long.
        await Task.Yield();
        var connection = await FramedConnection.ConnectAsync(endPoint, _options.AttemptTimeout, _stop.Token, _security).ConfigureAwait(false);
        connection.Start(HandleServerFrameAsync);
        return connection;
    }

    private void Forget(int server)
    {
        lock (_gate)
        {
            if (_connections.TryGetValue(server, out var task) && task.IsCompleted)
            {
                Drop(server, task);
                _openConnections = new(_connections);
            }
        }
    }

    /// <summary>Called under the lock: removes the connection to <paramref name="server"/> and closes it, now or
    /// once it opens (the caller republishes <see cref="_openConnections"/>).</summary>
    private void Drop(int server, Task<FramedConnection> task)
    {
        _connections.Remove(server);
        if (task.IsCompletedSuccessfully)
            task.Result.Close();
        else if (!task.IsCompleted)
            _ = task.ContinueWith(static t => t.Result.Close(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }
}
