using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading.Channels;
using MessagePack;
using RaySharp.Runtime;

namespace RaySharp.Protocol;

/// <summary>
/// One long-lived Unix-socket connection carrying length-prefixed MessagePack frames
/// (<c>[uint32 little-endian length][Message]</c>). Sends are queued without blocking; one writer
/// loop drains everything queued into the socket buffer and flushes once per batch, so a burst of task
/// specs costs one system call. Received frames are handed to the handler in order, on the reader loop.
/// A frame that cannot be decoded gets a <see cref="ProtocolError"/> reply and the connection is closed;
/// the rest of the node is unaffected.
/// </summary>
internal sealed class Connection : IAsyncDisposable
{
    public const int MaxFrameBytes = 1 << 30;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Channel<Message> _outbox = Channel.CreateUnbounded<Message>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private Task _reader = Task.CompletedTask;
    private Task _writer = Task.CompletedTask;
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

    /// <summary>Starts the loops. <paramref name="onMessage"/> runs on the reader loop and must not block.</summary>
    public void Start(Action<Message> onMessage, Action<Connection> onClosed)
    {
        _writer = Task.Run(WriteLoopAsync);
        _reader = Task.Run(() => ReadLoopAsync(onMessage, onClosed));
    }

    public void Send(Message message) => _outbox.Writer.TryWrite(message);

    private async Task WriteLoopAsync()
    {
        var pipe = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        var scratch = new ArrayBufferWriter<byte>(4096);
        var reader = _outbox.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var message))
                {
                    scratch.ResetWrittenCount();
                    MessagePackSerializer.Serialize(scratch, message, RaySerializer.Wire);
                    var header = pipe.GetSpan(4);
                    BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)scratch.WrittenCount);
                    pipe.Advance(4);
                    pipe.Write(scratch.WrittenSpan);
                    if (message is ProtocolError)
                    {
                        await pipe.FlushAsync(_stop.Token).ConfigureAwait(false);
                        Close(new InvalidDataException(((ProtocolError)message).Text));
                        return;
                    }
                }
                var flush = await pipe.FlushAsync(_stop.Token).ConfigureAwait(false);
                if (flush.IsCompleted)
                    break;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            Close(e is OperationCanceledException ? null : e);
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
        _outbox.Writer.TryComplete();
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < 4)
            return false;
        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
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
        _outbox.Writer.TryComplete();
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
        // Let queued frames (a ProtocolError above all) reach the peer before the socket goes.
        _outbox.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The peer is not reading; close anyway.
        }
        Close(null);
        _stop.Cancel();
        try
        {
            await Task.WhenAll(_reader, _writer).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
        {
            // Shutting down.
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
