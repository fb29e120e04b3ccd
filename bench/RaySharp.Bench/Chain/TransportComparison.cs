using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using RaySharp.Chain.Protocol;

namespace RaySharp.Bench.Chain;

/// <summary>
/// The wire-protocol decision, measured: one server answering put-shaped requests (key + 16-byte value →
/// Ok with a version) over (a) the chain's TCP framing (<see cref="FramedConnection"/>: one connection,
/// pipelined, writes coalesced) and (b) UDP datagrams, one request per datagram matched by request id,
/// with the retransmission a datagram protocol needs (a reply not back within 20 ms is re-sent). Same
/// process, same payload, same closed-loop clients (<see cref="KvWorkload"/>); only the transport differs.
/// </summary>
internal static class TransportComparison
{
    public static async Task MeasureAsync(BenchReport report, TimeSpan runLength, int runs, CancellationToken cancellationToken)
    {
        foreach (var (name, make) in new (string, Func<Task<IKvTarget>>)[]
        {
            ("tcp", async () => await TcpEcho.StartAsync(cancellationToken)),
            ("udp", () => Task.FromResult<IKvTarget>(UdpEcho.Start())),
        })
        {
            await using var target = await make();
            foreach (var clients in new[] { 1, 64 })
            {
                var result = await KvWorkload.RunAsync(target, clients, readPercent: 0, runLength, runs, cancellationToken);
                report.Add($"transport_{name}_c{clients}_ops", "ops/s", result.Rates);
                report.Add($"transport_{name}_c{clients}_p50", "us", result.P50Us);
                report.Add($"transport_{name}_c{clients}_p99", "us", result.P99Us);
            }
            if (target is UdpEcho udp)
                report.Add("transport_udp_resends", "count", udp.Resends);
        }
    }

    private static OutFrame Request(ulong id, string key, byte[] value) =>
        new FrameBuilder(OpCode.Put, id, 16 + key.Length + value.Length).Key(key).Bytes(value).Build();

    private static OutFrame Reply(ulong id) => new FrameBuilder(OpCode.Ok, id, 24).I64(1).U8(1).Bytes([]).Build();

    /// <summary>The chain's own transport: a <see cref="FrameListener"/> answering on each connection.</summary>
    private sealed class TcpEcho : IKvTarget
    {
        private readonly FrameListener _listener;
        private readonly FramedConnection _client;

        private TcpEcho(FrameListener listener, FramedConnection client)
        {
            _listener = listener;
            _client = client;
        }

        public static async Task<TcpEcho> StartAsync(CancellationToken cancellationToken)
        {
            var listener = new FrameListener(new IPEndPoint(IPAddress.Loopback, 0), connection => connection.Start((c, frame) =>
            {
                var reader = frame.Reader();
                reader.Key();
                reader.Bytes();
                reader.End();
                c.Send(Reply(frame.RequestId));
                return ValueTask.CompletedTask;
            }));
            var client = await FramedConnection.ConnectAsync(listener.EndPoint, TimeSpan.FromSeconds(5), cancellationToken);
            client.Start((_, _) => ValueTask.CompletedTask);
            return new TcpEcho(listener, client);
        }

        public async Task PutAsync(int client, string key, byte[] value)
        {
            var id = _client.NextRequestId();
            await _client.RequestAsync(id, Request(id, key, value), TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        public Task GetAsync(int client, string key) => PutAsync(client, key, []);

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync();
            await _listener.DisposeAsync();
        }
    }

    /// <summary>The same frames as datagrams (the length prefix dropped), with per-request retransmission.</summary>
    private sealed class UdpEcho : IKvTarget
    {
        private static readonly TimeSpan ResendAfter = TimeSpan.FromMilliseconds(20);
        private readonly Socket _server = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly Socket _client = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly ConcurrentDictionary<ulong, TaskCompletionSource> _pending = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serverLoop;
        private readonly Task _clientLoop;
        private long _nextId;
        private long _resends;

        private UdpEcho()
        {
            foreach (var socket in new[] { _server, _client })
            {
                socket.ReceiveBufferSize = 4 << 20;
                socket.SendBufferSize = 4 << 20;
                socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }
            _client.Connect(_server.LocalEndPoint!);
            _serverLoop = Task.Run(ServeAsync);
            _clientLoop = Task.Run(ReceiveRepliesAsync);
        }

        public long Resends => Interlocked.Read(ref _resends);

        public static UdpEcho Start() => new();

        private async Task ServeAsync()
        {
            var buffer = new byte[ChainLimits.MaxFrameBytes];
            EndPoint any = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                while (true)
                {
                    var received = await _server.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                    var id = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(1));
                    var frame = new Frame((OpCode)buffer[0], id, buffer.AsSpan(1 + 8, received.ReceivedBytes - 9).ToArray());
                    var reader = frame.Reader();
                    reader.Key();
                    reader.Bytes();
                    reader.End();
                    var reply = Reply(id);
                    try
                    {
                        await _server.SendToAsync(reply.Buffer.AsMemory(4, reply.Length - 4), SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                    }
                    finally
                    {
                        reply.Return();
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task ReceiveRepliesAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (true)
                {
                    var received = await _client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (received >= 9 && _pending.TryRemove(BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(1)), out var done))
                        done.TrySetResult();
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async Task PutAsync(int client, string key, byte[] value)
        {
            var id = (ulong)Interlocked.Increment(ref _nextId);
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pending[id] = done;
            var request = Request(id, key, value);
            try
            {
                for (var attempt = 0; attempt < 500; attempt++)
                {
                    if (attempt > 0)
                        Interlocked.Increment(ref _resends);
                    await _client.SendAsync(request.Buffer.AsMemory(4, request.Length - 4), SocketFlags.None);
                    try
                    {
                        // A timer per request, as the TCP path's RequestAsync has for its timeout.
                        await done.Task.WaitAsync(ResendAfter);
                        return;
                    }
                    catch (TimeoutException)
                    {
                    }
                }
                throw new TimeoutException($"UDP request {id} got no reply after 500 sends.");
            }
            finally
            {
                _pending.TryRemove(id, out _);
                request.Return();
            }
        }

        public Task GetAsync(int client, string key) => PutAsync(client, key, []);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _server.Dispose();
            _client.Dispose();
            await Task.WhenAll(_serverLoop, _clientLoop);
            _stop.Dispose();
        }
    }
}
