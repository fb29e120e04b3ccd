using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace RaySharp.Chain.Protocol;

/// <summary>
/// One TCP connection carrying frames both ways. Outgoing frames are queued and coalesced into large
/// socket writes (batching); requests are pipelined and matched to replies by request id. Incoming
/// non-reply frames are handed to the handler in arrival order on the read loop.
/// </summary>
/// <remarks>
/// Who writes the socket: by default the connection's writer task, woken by the first frame queued while it
/// is idle; the hop to it lets frames pile up into one large write. A connection started with
/// <c>writeInline</c> instead writes what handling one socket read's frames queued — on every connection it
/// went to — from the read loop's thread once those frames are handled (<see cref="SendBatch"/>), with
/// non-blocking writes: no hop, at the price of smaller writes when frames arrive in a steady trickle
/// (docs/chain.md "Where a write's time goes"). Either way at most one party writes a connection at a time,
/// frames leave in the order they were queued, and what the kernel does not take at once is left to the
/// writer, so a read loop never blocks on a full socket.
/// </remarks>
internal sealed class FramedConnection : IAsyncDisposable
{
    private const int WriteBatchBytes = 64 * 1024;

    /// <summary>The process's <see cref="WarmUpRefusedConnectAsync"/>, once started.</summary>
    private static Task? _refusedConnectWarmUp;

    /// <summary>Scratch space for a batch's socket write, one per thread.</summary>
    [ThreadStatic]
    private static byte[]? _threadWriteBuffer;

    private readonly Socket _socket;

    /// <summary>The TLS stream frames go through, or null: frames go straight to the socket.</summary>
    private readonly Stream? _tls;
    private readonly ReplyTable _replies = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The sending side, under _sendGate: frames waiting to be written; whether someone (the writer task, or a
    // read loop's batch write) is writing; whether a batch has noted this connection; bytes a batch write could
    // not hand to the kernel, which the writer sends first.
    private readonly Lock _sendGate = new();
    private readonly Queue<OutFrame> _outgoing = new();
    private readonly Channel<byte> _wakeWriter = Channel.CreateUnbounded<byte>(new UnboundedChannelOptions { SingleReader = true });
    private bool _writing;
    private bool _inBatch;
    private bool _sendClosed;
    private byte[]? _carry;
    private SendBatch? _readBatch;
    private volatile bool _inlineStopped;
    private Func<FramedConnection, Frame, ValueTask>? _handler;
    private Action<FramedConnection>? _batchEnd;
    private Task? _readLoop;
    private Task? _writeLoop;
    private long _nextRequestId;
    private int _disposed;

    private FramedConnection(Socket socket, Stream? tls = null, string? peerIdentity = null)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _tls = tls;
        PeerIdentity = peerIdentity;
        // A batch's write must never block its thread (two servers blocked writing to each other would read
        // nothing more): what the kernel does not take is left to the writer task. Over TLS only the writer
        // task writes (through the stream), so the socket stays as the stream wants it.
        if (tls is null)
            _socket.Blocking = false;
        Remote = socket.RemoteEndPoint as IPEndPoint;
    }

    /// <summary>The peer's address.</summary>
    public IPEndPoint? Remote { get; }

    /// <summary>The identity the peer proved with the cluster token's handshake (<c>server/3</c>, <c>client</c>,
    /// <c>controller</c>); null on a connection accepted without a token, where nothing is proved.</summary>
    public string? PeerIdentity { get; }

    /// <summary>Free slot for the owner (server id of a peer, session state).</summary>
    public object? Tag { get; set; }

    /// <summary>Completes when the connection is closed for any reason.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Fault injection: a delay applied before each incoming frame is handled.</summary>
    public Func<TimeSpan>? IncomingDelay { get; set; }

    /// <summary>Connects to <paramref name="endPoint"/> and, before any frame, runs what <paramref name="security"/>
    /// requires (TLS, then the token handshake as <paramref name="identity"/>): a <see cref="HandshakeFailedException"/>
    /// when it fails. <paramref name="timeout"/> bounds the connect and the handshake each.</summary>
    public static async Task<FramedConnection> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken,
        ConnectionSecurity? security = null, string identity = "client")
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using (var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeoutCts.CancelAfter(timeout);
                await socket.ConnectAsync(endPoint, timeoutCts.Token).ConfigureAwait(false);
            }
            if (security is not { Enabled: true })
                return new FramedConnection(socket);
            socket.NoDelay = true; // the handshake's small messages must not wait for Nagle
            var tls = await security.SecureClientAsync(socket, endPoint, identity, timeout, cancellationToken).ConfigureAwait(false);
            return new FramedConnection(socket, tls);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static FramedConnection Accept(Socket socket) => new(socket);

    /// <summary>A connection accepted and authenticated by <see cref="ConnectionSecurity.SecureServerAsync"/>.</summary>
    public static FramedConnection Accepted(Socket socket, Stream? tls, string? peerIdentity) => new(socket, tls, peerIdentity);

    /// <summary>
    /// Runs <see cref="ConnectAsync"/> once against a port that is bound but does not listen, so it is refused:
    /// a process pays for its first refused connect (the first <see cref="SocketException"/> thrown, its message
    /// and the exception machinery: 9 ms on an idle machine, up to 38 ms traced during a failover) at start,
    /// not when a server it talks to has just died and every millisecond counts. Once per process.
    /// </summary>
    public static Task WarmUpRefusedConnectAsync() => LazyInitializer.EnsureInitialized(ref _refusedConnectWarmUp, RefuseOnceAsync);

    private static async Task RefuseOnceAsync()
    {
        using var closed = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        closed.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        try
        {
            var connection = await ConnectAsync((IPEndPoint)closed.LocalEndPoint!, TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false); // not expected: nothing listens
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The refusal is the point; nothing depends on it.
        }
    }

    /// <summary>Starts the read and write loops; <paramref name="handler"/> receives every non-reply frame, and
    /// <paramref name="batchEnd"/> (optional) runs once the frames one socket read brought have all been
    /// dispatched, before the next read: per-batch work (writing a log, releasing queued replies) goes there.
    /// With <paramref name="writeInline"/>, what the handler and <paramref name="batchEnd"/> send (on any
    /// connection) is written by the read loop after <paramref name="batchEnd"/> instead of by the writers.</summary>
    public void Start(Func<FramedConnection, Frame, ValueTask> handler, Action<FramedConnection>? batchEnd = null, bool writeInline = false)
    {
        _handler = handler;
        _batchEnd = batchEnd;
        _readBatch = writeInline ? new SendBatch() : null;
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>The batch the read loop writes through, while it writes inline.</summary>
    private SendBatch? InlineBatch => _inlineStopped ? null : _readBatch;

    /// <summary>From the next frame on, what handling this connection's frames sends goes to the writers, as if
    /// it had been started without <c>writeInline</c>.</summary>
    public void StopWritingInline() => _inlineStopped = true;

    /// <summary>Queues a frame; returns false when the connection is closed (the frame is dropped).</summary>
    public bool Send(OutFrame frame)
    {
        lock (_sendGate)
        {
            if (_sendClosed)
            {
                frame.Return();
                return false;
            }
            _outgoing.Enqueue(frame);
            if (_writing || _inBatch)
                return true;
            if (SendBatch.Current is { } batch)
            {
                _inBatch = true;
                batch.Add(this);
                return true;
            }
            _writing = true;
        }
        _wakeWriter.Writer.TryWrite(0);
        return true;
    }

    /// <summary>Writes the queued frames on the calling thread with non-blocking socket writes, unless the
    /// writer task is at it; what the kernel does not take at once, or what is queued meanwhile, is left to
    /// the writer. Called by <see cref="SendBatch.Flush"/>.</summary>
    internal void WriteBatch()
    {
        var buffer = _threadWriteBuffer ??= new byte[WriteBatchBytes];
        var used = 0;
        lock (_sendGate)
        {
            _inBatch = false;
            if (_writing || _sendClosed || _outgoing.Count == 0)
                return;
            _writing = true;
            if (_tls is null)
                used = TakeQueued(buffer);
        }
        if (_tls is not null)
        {
            // TLS records are written by the writer task alone (an SslStream takes one write at a time).
            _wakeWriter.Writer.TryWrite(0);
            return;
        }
        var sent = 0;
        try
        {
            while (sent < used)
            {
                var n = _socket.Send(buffer.AsSpan(sent, used - sent), SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock)
                    break;
                if (error != SocketError.Success)
                {
                    Close();
                    return;
                }
                sent += n;
            }
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        lock (_sendGate)
        {
            if (sent < used)
                _carry = buffer.AsSpan(sent, used - sent).ToArray();
            else if (_outgoing.Count == 0)
            {
                _writing = false;
                return;
            }
        }
        _wakeWriter.Writer.TryWrite(0);
    }

    /// <summary>Called under <see cref="_sendGate"/>: moves the queued frames that fit into <paramref name="buffer"/>,
    /// in order, stopping at the first that does not; returns the bytes taken.</summary>
    private int TakeQueued(byte[] buffer)
    {
        var used = 0;
        while (_outgoing.TryPeek(out var frame) && used + frame.Length <= buffer.Length)
        {
            _outgoing.Dequeue();
            frame.Buffer.AsSpan(0, frame.Length).CopyTo(buffer.AsSpan(used));
            used += frame.Length;
            frame.Return();
        }
        return used;
    }

    public ulong NextRequestId() => (ulong)Interlocked.Increment(ref _nextRequestId);

    /// <summary>Sends a request built with <paramref name="requestId"/> and awaits the reply frame: a
    /// <see cref="TimeoutException"/> when none came within <paramref name="timeout"/> (checked every
    /// <see cref="ReplyTable.SweepPeriod"/>), a <see cref="ConnectionClosedException"/> when the connection
    /// closed first. Await the result once.</summary>
    public ValueTask<Frame> RequestAsync(ulong requestId, OutFrame frame, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            frame.Return();
            return ValueTask.FromCanceled<Frame>(cancellationToken);
        }
        ReplyTable.Waiter waiter;
        try
        {
            waiter = _replies.Add(requestId, timeout, cancellationToken);
        }
        catch (ConnectionClosedException e)
        {
            frame.Return();
            return ValueTask.FromException<Frame>(e);
        }
        if (Send(frame))
            return waiter.Task;
        // Closed meanwhile: the request never left, whatever the close told the waiter (which then goes unpooled).
        var notSent = new ConnectionClosedException("The connection closed before the request was sent.", sent: false);
        _replies.TryFail(requestId, waiter, notSent);
        return ValueTask.FromException<Frame>(notSent);
    }

    public void Close() => _ = DisposeAsync().AsTask();

    /// <summary>Closes the connection once what is queued (an error saying why) has been written, or after 1 s.</summary>
    public void CloseAfterFlush() => _ = CloseAfterFlushAsync();

    private async Task CloseAfterFlushAsync()
    {
        await FlushThenCloseAsync().ConfigureAwait(false);
        Close();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await _closed.Task.ConfigureAwait(false);
            return;
        }
        _closing.Cancel();
        lock (_sendGate)
            _sendClosed = true;
        _wakeWriter.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
        if (_tls is not null)
            await _tls.DisposeAsync().ConfigureAwait(false);
        _replies.Close(static () => new ConnectionClosedException("The connection closed while awaiting a reply.", sent: true));
        lock (_sendGate)
        {
            while (_outgoing.TryDequeue(out var frame))
                frame.Return();
        }
        _closed.TrySetResult();
        _closing.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(128 * 1024);
        var start = 0;
        var end = 0;
        try
        {
            while (true)
            {
                // Parse every complete frame in the buffer.
                var dispatched = false;
                while (end - start >= 4)
                {
                    var length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(start));
                    if (length < ChainLimits.HeaderBytes || length > ChainLimits.MaxFrameBytes)
                    {
                        if (dispatched)
                            EndBatch();
                        // The stream cannot be resynchronised: tell the peer, then close.
                        SendError(0, ErrorCode.TooLarge, $"Frame length {length} is outside [{ChainLimits.HeaderBytes}, {ChainLimits.MaxFrameBytes}]; closing the connection.");
                        await FlushThenCloseAsync().ConfigureAwait(false);
                        return;
                    }
                    if (end - start < 4 + length)
                    {
                        if (4 + length > buffer.Length)
                        {
                            var bigger = ArrayPool<byte>.Shared.Rent(4 + length);
                            buffer.AsSpan(start, end - start).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                            end -= start;
                            start = 0;
                        }
                        break;
                    }
                    var op = (OpCode)buffer[start + 4];
                    var requestId = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(start + 5));
                    var payload = buffer.AsSpan(start + 4 + ChainLimits.HeaderBytes, length - ChainLimits.HeaderBytes).ToArray();
                    start += 4 + length;
                    dispatched = true;
                    ValueTask dispatch;
                    using (SendBatch.Open(InlineBatch))
                        dispatch = DispatchAsync(new Frame(op, requestId, payload));
                    if (!dispatch.IsCompletedSuccessfully)
                        await dispatch.ConfigureAwait(false);
                }
                if (dispatched)
                    EndBatch();
                if (start == end)
                {
                    start = end = 0;
                }
                else if (buffer.Length - end < 4096)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    end -= start;
                    start = 0;
                }
                var read = _tls is null
                    ? await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _closing.Token).ConfigureAwait(false)
                    : await _tls.ReadAsync(buffer.AsMemory(end), _closing.Token).ConfigureAwait(false);
                if (read == 0)
                    return;
                end += read;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            // A handler that threw mid-batch must not strand what the batch queued on other connections.
            _readBatch?.Flush();
            Close();
        }
    }

    /// <summary>After one socket read's frames: runs the batch-end callback, then writes what the handling queued
    /// (with <c>writeInline</c>).</summary>
    private void EndBatch()
    {
        if (_batchEnd is { } batchEnd)
        {
            using (SendBatch.Open(InlineBatch))
                batchEnd(this);
        }
        _readBatch?.Flush();
    }

    private async ValueTask DispatchAsync(Frame frame)
    {
        if (IncomingDelay is { } delay)
        {
            var wait = delay();
            if (wait > TimeSpan.Zero)
                await Task.Delay(wait, _closing.Token).ConfigureAwait(false);
        }
        if (frame.Op >= OpCode.FirstReply && frame.RequestId != 0 && _replies.TryComplete(frame.RequestId, frame))
            return;
        if (frame.Op is OpCode.Ok or OpCode.ConfigReply)
            return; // a late reply to a request that timed out; errors go to the handler (watches end with one)
        await _handler!(this, frame).ConfigureAwait(false);
    }

    public void SendError(ulong requestId, ErrorCode code, string message) =>
        Send(new FrameBuilder(OpCode.Error, requestId).U8((byte)code).Text(message).Build());

    private async Task FlushThenCloseAsync()
    {
        bool wake;
        lock (_sendGate)
        {
            _sendClosed = true;
            wake = !_writing;
            _writing = true;
        }
        if (wake)
            _wakeWriter.Writer.TryWrite(0);
        _wakeWriter.Writer.TryComplete();
        if (_writeLoop is not null)
            await Task.WhenAny(_writeLoop, Task.Delay(1000)).ConfigureAwait(false);
    }

    /// <summary>Each time it is woken, writes what is queued, coalescing frames into large socket writes; it owns
    /// the sending side from its wake-up until it finds the queue empty.</summary>
    private async Task WriteLoopAsync()
    {
        var batch = new byte[WriteBatchBytes];
        try
        {
            var wake = _wakeWriter.Reader;
            while (await wake.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                while (wake.TryRead(out _))
                {
                    byte[]? carry;
                    lock (_sendGate)
                    {
                        carry = _carry;
                        _carry = null;
                    }
                    if (carry is not null)
                        await SendAllAsync(carry).ConfigureAwait(false);
                    while (true)
                    {
                        int used;
                        OutFrame large = default;
                        lock (_sendGate)
                        {
                            used = TakeQueued(batch);
                            if (used == 0 && !_outgoing.TryDequeue(out large))
                            {
                                _writing = false;
                                break;
                            }
                        }
                        if (used > 0)
                            await SendAllAsync(batch.AsMemory(0, used)).ConfigureAwait(false);
                        else
                        {
                            // A frame larger than the batch buffer goes out on its own.
                            await SendAllAsync(large.Buffer.AsMemory(0, large.Length)).ConfigureAwait(false);
                            large.Return();
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
        finally
        {
            Close();
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        if (_tls is not null)
        {
            await _tls.WriteAsync(data, _closing.Token).ConfigureAwait(false);
            return;
        }
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, _closing.Token).ConfigureAwait(false);
            data = data[sent..];
        }
    }
}

/// <summary>The connection closed; <see cref="Sent"/> says whether the request may have reached the peer.</summary>
internal sealed class ConnectionClosedException(string message, bool sent) : IOException(message)
{
    public bool Sent { get; } = sent;
}

/// <summary>Accepts connections on a loopback port and starts each with a handler.</summary>
internal sealed class FrameListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;

    /// <summary>Listens on <paramref name="endPoint"/>; every accepted connection first passes what
    /// <paramref name="security"/> requires (in its own task: a slow handshake holds up no other), and only
    /// connections that pass reach <paramref name="onAccepted"/>.</summary>
    public FrameListener(IPEndPoint endPoint, Action<FramedConnection> onAccepted, ConnectionSecurity? security = null)
    {
        security ??= ConnectionSecurity.None;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _socket.Bind(endPoint);
        _socket.Listen(512);
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    return;
                }
                if (!security.Enabled)
                {
                    onAccepted(FramedConnection.Accept(client));
                    continue;
                }
                client.NoDelay = true;
                _ = Task.Run(async () =>
                {
                    if (await security.SecureServerAsync(client, _stop.Token).ConfigureAwait(false) is var (tls, identity))
                        onAccepted(FramedConnection.Accepted(client, tls, identity));
                });
            }
        });
    }

    public IPEndPoint EndPoint { get; }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
