using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace RaySharp.Bench.Chain;

/// <summary>
/// A minimal ZooKeeper client speaking the jute wire protocol (there is no ZooKeeper client on NuGet):
/// session handshake, create, setData, getData, exists and pings, pipelined over one TCP connection.
/// ZooKeeper answers a session's requests in order, so replies are matched to a FIFO of callers.
/// </summary>
internal sealed class ZooKeeperClient : IAsyncDisposable
{
    private const int OpCreate = 1;
    private const int OpExists = 3;
    private const int OpGetData = 4;
    private const int OpSetData = 5;
    private const int OpPing = 11;
    private const int PingXid = -2;
    private const int WatchXid = -1;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Queue<(int Xid, TaskCompletionSource<(int Err, byte[] Body)> Reply)> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private Task? _reader;
    private Task? _writer;
    private Task? _pinger;
    private int _xid;

    private ZooKeeperClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public static async Task<ZooKeeperClient> ConnectAsync(IPEndPoint endPoint, TimeSpan sessionTimeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint, cancellationToken);
        var client = new ZooKeeperClient(socket);
        // ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly.
        var request = new Jute().Int(0).Long(0).Int((int)sessionTimeout.TotalMilliseconds).Long(0).Buffer(new byte[16]).Bool(false).Framed();
        await client._stream.WriteAsync(request, cancellationToken);
        var reply = await client.ReadFrameAsync(cancellationToken) ?? throw new IOException($"ZooKeeper at {endPoint} closed the connection during the handshake.");
        // ConnectResponse: protocolVersion, timeOut, sessionId, passwd; a timeout of 0 means refused.
        var timeout = BinaryPrimitives.ReadInt32BigEndian(reply.AsSpan(4));
        if (timeout <= 0)
            throw new IOException($"ZooKeeper at {endPoint} refused the session (negotiated timeout {timeout}).");
        client._reader = Task.Run(client.ReadLoopAsync);
        client._writer = Task.Run(client.WriteLoopAsync);
        client._pinger = Task.Run(() => client.PingLoopAsync(TimeSpan.FromMilliseconds(timeout / 3.0)));
        return client;
    }

    /// <summary>Creates a persistent node open to everyone; returns false if it already exists.</summary>
    public async Task<bool> CreateAsync(string path, byte[] data)
    {
        var body = new Jute().String(path).Buffer(data)
            .Int(1).Int(31).String("world").String("anyone") // ACL: OPEN_ACL_UNSAFE
            .Int(0); // persistent
        var (err, _) = await CallAsync(OpCreate, body);
        if (err == -110) // NODEEXISTS
            return false;
        Check(err, "create", path);
        return true;
    }

    public async Task SetDataAsync(string path, byte[] data)
    {
        var (err, _) = await CallAsync(OpSetData, new Jute().String(path).Buffer(data).Int(-1));
        Check(err, "setData", path);
    }

    public async Task<byte[]> GetDataAsync(string path)
    {
        var (err, body) = await CallAsync(OpGetData, new Jute().String(path).Bool(false));
        Check(err, "getData", path);
        var length = BinaryPrimitives.ReadInt32BigEndian(body);
        return length < 0 ? [] : body.AsSpan(4, length).ToArray();
    }

    public async Task<bool> ExistsAsync(string path)
    {
        var (err, _) = await CallAsync(OpExists, new Jute().String(path).Bool(false));
        if (err == -101) // NONODE
            return false;
        Check(err, "exists", path);
        return true;
    }

    private static void Check(int err, string op, string path)
    {
        if (err != 0)
            throw new IOException($"ZooKeeper {op} {path} failed with error {err}.");
    }

    private Task<(int Err, byte[] Body)> CallAsync(int type, Jute body)
    {
        var reply = new TaskCompletionSource<(int, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var xid = ++_xid;
            _pending.Enqueue((xid, reply));
            _outgoing.Writer.TryWrite(new Jute().Int(xid).Int(type).Append(body).Framed());
        }
        return reply.Task;
    }

    private async Task PingLoopAsync(TimeSpan period)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _outgoing.Writer.TryWrite(new Jute().Int(PingXid).Int(OpPing).Framed());
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new MemoryStream();
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(_stop.Token))
            {
                batch.SetLength(0);
                while (batch.Length < 64 * 1024 && _outgoing.Reader.TryRead(out var frame))
                    batch.Write(frame);
                await _stream.WriteAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await ReadFrameAsync(_stop.Token) is { } frame)
            {
                // ReplyHeader: xid, zxid, err.
                var xid = BinaryPrimitives.ReadInt32BigEndian(frame);
                var err = BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(12));
                if (xid is PingXid or WatchXid)
                    continue;
                TaskCompletionSource<(int, byte[])> reply;
                lock (_gate)
                {
                    var (expected, waiting) = _pending.Dequeue();
                    if (expected != xid)
                        throw new IOException($"ZooKeeper replied to xid {xid} while {expected} was next: the session is out of order.");
                    reply = waiting;
                }
                reply.TrySetResult((err, frame[16..]));
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
        lock (_gate)
        {
            while (_pending.TryDequeue(out var waiting))
                waiting.Reply.TrySetException(new IOException("The ZooKeeper connection closed."));
        }
    }

    private async Task<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var header = new byte[4];
        if (!await ReadExactlyAsync(header, cancellationToken))
            return null;
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > 16 * 1024 * 1024)
            throw new IOException($"ZooKeeper sent a frame of {length} bytes.");
        var frame = new byte[length];
        return await ReadExactlyAsync(frame, cancellationToken) ? frame : null;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _outgoing.Writer.TryComplete();
        _socket.Dispose();
        foreach (var task in new[] { _reader, _writer, _pinger })
        {
            if (task is not null)
                await task;
        }
        await _stream.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>Jute (ZooKeeper's record encoding): big-endian ints and longs, length-prefixed strings and buffers.</summary>
    private sealed class Jute
    {
        private readonly MemoryStream _bytes = new();

        public Jute Int(int value)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(b, value);
            _bytes.Write(b);
            return this;
        }

        public Jute Long(long value)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteInt64BigEndian(b, value);
            _bytes.Write(b);
            return this;
        }

        public Jute Bool(bool value)
        {
            _bytes.WriteByte(value ? (byte)1 : (byte)0);
            return this;
        }

        public Jute Buffer(byte[] value)
        {
            Int(value.Length);
            _bytes.Write(value);
            return this;
        }

        public Jute String(string value) => Buffer(Encoding.UTF8.GetBytes(value));

        public Jute Append(Jute other)
        {
            other._bytes.Position = 0;
            other._bytes.CopyTo(_bytes);
            return this;
        }

        /// <summary>The record with its 4-byte length prefix.</summary>
        public byte[] Framed()
        {
            var frame = new byte[4 + _bytes.Length];
            BinaryPrimitives.WriteInt32BigEndian(frame, (int)_bytes.Length);
            _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length).CopyTo(frame.AsSpan(4));
            return frame;
        }
    }
}
