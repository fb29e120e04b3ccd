using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Tests;

/// <summary><see cref="FramedConnection"/>'s sending side against a raw socket peer.</summary>
public sealed class TransportTests
{
    private const int Requests = 200;
    private const int FramesPerRequest = 3;
    private const int FrameBytes = 16 * 1024;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_peer_that_stops_reading_blocks_no_read_loop_and_still_gets_every_frame_in_order(bool writeInline)
    {
        // Each request is answered with 48 KiB of frames, 9.6 MB in all: far more than the kernel buffers while the
        // peer does not read. A write from the read loop that meets a full socket must leave the rest to the
        // connection's writer rather than block the loop, which must go on handling requests.
        var handled = 0;
        await using var listener = new FrameListener(new IPEndPoint(IPAddress.Loopback, 0), connection => connection.Start((c, frame) =>
        {
            for (var i = 0; i < FramesPerRequest; i++)
                c.Send(new FrameBuilder(OpCode.Ok, frame.RequestId, FrameBytes + 64).I32(i).Bytes(new byte[FrameBytes]).Build());
            Interlocked.Increment(ref handled);
            return ValueTask.CompletedTask;
        }, writeInline: writeInline));
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await peer.ConnectAsync(listener.EndPoint);

        // One at a time, so that each is a socket read (a batch) of its own and its replies are written before
        // the next arrives.
        for (var r = 1; r <= Requests; r++)
        {
            await peer.SendAsync(Request((ulong)r), SocketFlags.None);
            await Task.Delay(1);
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref handled) < Requests && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.True(Volatile.Read(ref handled) == Requests, $"the read loop handled {handled} of {Requests} requests while the peer was not reading: it blocked on a full socket");

        for (ulong request = 1; request <= Requests; request++)
        {
            for (var i = 0; i < FramesPerRequest; i++)
            {
                var (op, id, payload) = await ReadFrameAsync(peer);
                Assert.Equal((OpCode.Ok, request, i), (op, id, BinaryPrimitives.ReadInt32LittleEndian(payload)));
            }
        }
    }

    private static byte[] Request(ulong requestId)
    {
        var frame = new byte[4 + ChainLimits.HeaderBytes];
        BinaryPrimitives.WriteInt32LittleEndian(frame, ChainLimits.HeaderBytes);
        frame[4] = (byte)OpCode.Get;
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(5), requestId);
        return frame;
    }

    private static async Task<(OpCode Op, ulong Id, byte[] Payload)> ReadFrameAsync(Socket socket)
    {
        var length = new byte[4];
        await ReadExactlyAsync(socket, length);
        var frame = new byte[BinaryPrimitives.ReadInt32LittleEndian(length)];
        await ReadExactlyAsync(socket, frame);
        return ((OpCode)frame[0], BinaryPrimitives.ReadUInt64LittleEndian(frame.AsSpan(1)), frame[ChainLimits.HeaderBytes..]);
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, "the connection closed before every frame arrived");
            read += n;
        }
    }
}
