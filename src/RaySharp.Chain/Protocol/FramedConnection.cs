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
internal sealed class FramedConnection : IAsyncDisposable
{
    private const int WriteBatchBytes = 64 * 1024;

    private readonly Socket _socket;
    private readonly Channel<OutFrame> _outgoing = Channel.CreateUnbounded<OutFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ReplyTable _replies = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Func<FramedConnection, Frame, ValueTask>? _handler;
    private Action<FramedConnection>? _batchEnd;
    private Task? _readLoop;
    private Task? _writeLoop;
    private long _nextRequestId;
    private int _disposed;

    private FramedConnection(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        Remote = socket.RemoteEndPoint as IPEndPoint;
    }

    /// <summary>The peer's address.</summary>
    public IPEndPoint? Remote { get; }

    /// <summary>Free slot for the owner (server id of a peer, session state).</summary>
    public object? Tag { get; set; }

    /// <summary>Completes when the connection is closed for any reason.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Fault injection: a delay applied before each incoming frame is handled.</summary>
    public Func<TimeSpan>? IncomingDelay { get; set; }

    public static async Task<FramedConnection> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutCts.CancelAfter(timeout);
            await socket.ConnectAsync(endPoint, timeoutCts.Token).ConfigureAwait(false);
            return new FramedConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static FramedConnection Accept(Socket socket) => new(socket);

    /// <summary>Starts the read and write loops; <paramref name="handler"/> receives every non-reply frame, and
    /// <paramref name="batchEnd"/> (optional) runs once the frames one socket read brought have all been
    /// dispatched, before the next read: per-batch work (writing a log, releasing queued replies) goes there.</summary>
    public void Start(Func<FramedConnection, Frame, ValueTask> handler, Action<FramedConnection>? batchEnd = null)
    {
        _handler = handler;
        _batchEnd = batchEnd;
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a frame; returns false when the connection is closed (the frame is dropped).</summary>
    public bool Send(OutFrame frame)
    {
        if (_outgoing.Writer.TryWrite(frame))
            return true;
        frame.Return();
        return false;
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

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            await _closed.Task.ConfigureAwait(false);
            return;
        }
        _closing.Cancel();
        _outgoing.Writer.TryComplete();
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
        _replies.Close(static () => new ConnectionClosedException("The connection closed while awaiting a reply.", sent: true));
        while (_outgoing.Reader.TryRead(out var frame))
            frame.Return();
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
                            _batchEnd?.Invoke(this);
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
                    await DispatchAsync(new Frame(op, requestId, payload)).ConfigureAwait(false);
                }
                if (dispatched)
                    _batchEnd?.Invoke(this);
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
                var read = await _socket.ReceiveAsync(buffer.AsMemory(end), SocketFlags.None, _closing.Token).ConfigureAwait(false);
                if (read == 0)
                    return;
                end += read;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Close();
        }
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
        _outgoing.Writer.TryComplete();
        if (_writeLoop is not null)
            await Task.WhenAny(_writeLoop, Task.Delay(1000)).ConfigureAwait(false);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new byte[WriteBatchBytes];
        try
        {
            var reader = _outgoing.Reader;
            while (await reader.WaitToReadAsync(_closing.Token).ConfigureAwait(false))
            {
                var used = 0;
                while (reader.TryRead(out var frame))
                {
                    if (used + frame.Length > batch.Length)
                    {
                        if (used > 0)
                        {
                            await SendAllAsync(batch.AsMemory(0, used)).ConfigureAwait(false);
                            used = 0;
                        }
                        if (frame.Length > batch.Length)
                        {
                            await SendAllAsync(frame.Buffer.AsMemory(0, frame.Length)).ConfigureAwait(false);
                            frame.Return();
                            continue;
                        }
                    }
                    frame.Buffer.AsSpan(0, frame.Length).CopyTo(batch.AsSpan(used));
                    used += frame.Length;
                    frame.Return();
                }
                if (used > 0)
                    await SendAllAsync(batch.AsMemory(0, used)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            Close();
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
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

    public FrameListener(IPEndPoint endPoint, Action<FramedConnection> onAccepted)
    {
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
                onAccepted(FramedConnection.Accept(client));
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
