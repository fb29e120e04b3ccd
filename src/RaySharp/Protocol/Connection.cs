using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using MessagePack;
using RaySharp.Runtime;

namespace RaySharp.Protocol;

/// <summary>
/// One long-lived Unix-socket connection carrying length-prefixed MessagePack frames
/// (<c>[uint32 little-endian length][Message]</c>). Sending never waits for another thread: the sender
/// that finds the connection idle writes its frame (and everything other threads queued meanwhile) in one
/// system call; a sender that finds a write in progress just queues its frame for that writer, so bursts
/// are batched without a hop through a writer thread. Received frames are handed to the handler in order,
/// on the reader loop. A frame that cannot be decoded gets a <see cref="ProtocolError"/> reply and the
/// connection is closed; the rest of the node is unaffected.
/// </summary>
internal sealed class Connection : IAsyncDisposable
{
    public const int MaxFrameBytes = 1 << 30;

    /// <summary>"PRI " read as a frame length: the start of the HTTP/2 preface, i.e. a gRPC client on the wrong socket.</summary>
    private const uint Http2PrefaceStart = 0x2049_5250;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ConcurrentQueue<Message> _outbox = new();
    private readonly ArrayBufferWriter<byte> _batch = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _scratch = new(4096);
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private int _writing;
    private int _closed;

    public Connection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Why the connection closed; null while open or after a clean close.</summary>
    public Exception? CloseReason { get; private set; }

    public bool IsOpen => Volatile.Read(ref _closed) == 0;

    public static async Task<Connection> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new Connection(socket);
    }

    /// <summary>Starts the reader loop. <paramref name="onMessage"/> runs on it and must not block.</summary>
    public void Start(Action<Message> onMessage, Action<Connection> onClosed) =>
        _reader = Task.Run(() => ReadLoopAsync(onMessage, onClosed));

    public void Send(Message message)
    {
        if (!IsOpen)
            return;
        _outbox.Enqueue(message);
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
            Drain();
    }

    /// <summary>Writes everything queued; the caller holds the writer role and gives it up at the end.</summary>
    private void Drain()
    {
        while (true)
        {
            var reject = false;
            try
            {
                _batch.ResetWrittenCount();
                while (_outbox.TryDequeue(out var message))
                {
                    _scratch.ResetWrittenCount();
                    MessagePackSerializer.Serialize(_scratch, message, RaySerializer.Wire);
                    BinaryPrimitives.WriteUInt32LittleEndian(_batch.GetSpan(4), (uint)_scratch.WrittenCount);
                    _batch.Advance(4);
                    _batch.Write(_scratch.WrittenSpan);
                    if (message is ProtocolError)
                    {
                        reject = true;
                        break;
                    }
                    if (_batch.WrittenCount > 1 << 20)
                        break;
                }
                var pending = _batch.WrittenSpan;
                while (!pending.IsEmpty && IsOpen)
                    pending = pending[_socket.Send(pending)..];
                if (reject)
                    Close(CloseReason ?? new InvalidDataException("The peer sent a frame that is not a RaySharp message."));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                Close(e);
            }
            Volatile.Write(ref _writing, 0);
            if (_outbox.IsEmpty || !IsOpen || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
                return;
        }
    }

    private async Task ReadLoopAsync(Action<Message> onMessage, Action<Connection> onClosed)
    {
        var pipe = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true, bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                var read = await pipe.ReadAsync(_stop.Token).ConfigureAwait(false);
                var buffer = read.Buffer;
                while (TryReadFrame(ref buffer, out var frame))
                {
                    Message message;
                    try
                    {
                        message = MessagePackSerializer.Deserialize<Message>(frame, RaySerializer.Wire)
                            ?? throw new InvalidDataException("The frame held a nil message.");
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        Reject($"A frame of {frame.Length} bytes is not a RaySharp message ({e.GetBaseException().Message}). " +
                            "Connect with a RaySharp client of the same version.");
                        return;
                    }
                    onMessage(message);
                }
                pipe.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                    break;
            }
            Close(null);
        }
        catch (InvalidDataException e)
        {
            Reject(e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            Close(e is OperationCanceledException ? null : e);
        }
        finally
        {
            onClosed(this);
        }
    }

    private void Reject(string text)
    {
        CloseReason = new InvalidDataException(text);
        Send(new ProtocolError { Text = text });
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < 4)
            return false;
        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length == Http2PrefaceStart)
            throw new InvalidDataException("An HTTP/2 (gRPC) client connected to a RaySharp data socket; connect it to the node's control address (control.sock or host:port) instead.");
        if (length > MaxFrameBytes)
            throw new InvalidDataException($"A frame declares {length} bytes, more than the {MaxFrameBytes}-byte limit; the stream is corrupt or not RaySharp's.");
        if (buffer.Length < 4 + length)
            return false;
        frame = buffer.Slice(4, length);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private void Close(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
            return;
        CloseReason ??= reason;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone: the peer closed first.
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close(null);
        _stop.Cancel();
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // Shutting down.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
