using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RaySharp.Chain.Client;
using RaySharp.Chain.Controller;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

/// <summary>Bad input against an in-process single-server cluster: rejected with an error, never a crash or corruption.</summary>
public sealed class ProtocolTests : IAsyncLifetime
{
    private ChainController _controller = null!;
    private ChainServer _server = null!;
    private ChainClient _client = null!;

    public async Task InitializeAsync()
    {
        _controller = await ChainController.StartAsync(new ChainControllerOptions { Replicas = 1, GroupCount = 4 });
        _server = await ChainServer.StartAsync(new ChainServerOptions { ServerId = 0, Controller = _controller.EndPoint });
        _client = await ChainClient.ConnectAsync(new ChainClientOptions { Controller = _controller.EndPoint });
        await WaitForViewAsync(_client, v => v.Chains.All(c => c.Count == 1), "the single server to own every group");
        await _client.PutAsync("safe", Bytes("intact"));
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _controller.DisposeAsync();
    }

    private async Task<Socket> RawAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_server.EndPoint);
        return socket;
    }

    private static byte[] Frame(byte op, ulong requestId, byte[] payload)
    {
        var frame = new byte[4 + 9 + payload.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, 9 + payload.Length);
        frame[4] = op;
        BinaryPrimitives.WriteUInt64LittleEndian(frame.AsSpan(5), requestId);
        payload.CopyTo(frame.AsSpan(13));
        return frame;
    }

    private static async Task<(OpCode Op, ulong Id, ErrorCode Code, string Message)?> ReadReplyAsync(Socket socket)
    {
        var header = new byte[4];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var read = 0;
        while (read < 4)
        {
            var n = await socket.ReceiveAsync(header.AsMemory(read), SocketFlags.None, timeout.Token);
            if (n == 0)
                return null;
            read += n;
        }
        var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(header)];
        for (read = 0; read < body.Length;)
            read += await socket.ReceiveAsync(body.AsMemory(read), SocketFlags.None, timeout.Token);
        var op = (OpCode)body[0];
        var id = BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(1));
        if (op != OpCode.Error)
            return (op, id, 0, "");
        var reader = new WireReader(body.AsSpan(9));
        return (op, id, (ErrorCode)reader.U8(), reader.Text());
    }

    private async Task AssertStillServingAsync()
    {
        Assert.Equal("intact", Text((await _client.GetAsync("safe")).Value));
        var version = await _client.PutAsync("after", Bytes("ok"));
        Assert.Equal("ok", Text((await _client.GetAsync("after")).Value));
        Assert.True(version > 0);
    }

    [Fact]
    public async Task A_truncated_payload_is_rejected_as_malformed_and_the_connection_keeps_working()
    {
        using var socket = await RawAsync();
        await socket.SendAsync(Frame((byte)OpCode.Put, 7, [10, 0, (byte)'a', (byte)'b']));
        var reply = await ReadReplyAsync(socket);
        Assert.Equal((OpCode.Error, 7UL, ErrorCode.Malformed), (reply!.Value.Op, reply.Value.Id, reply.Value.Code));
        Assert.Contains("truncated", reply.Value.Message, StringComparison.Ordinal);

        await socket.SendAsync(Frame((byte)OpCode.GetConfig, 8, []));
        Assert.Equal(OpCode.ConfigReply, (await ReadReplyAsync(socket))!.Value.Op);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_hello_claiming_a_server_outside_the_configuration_is_refused_and_its_replication_changes_nothing()
    {
        using var socket = await RawAsync();
        var hello = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(hello, 7); // no server 7 in this cluster
        await socket.SendAsync(Frame((byte)OpCode.Hello, 0, hello));
        // epoch 0, group 0, then kind 9 (neither value nor tombstone), version 1, key "safe", empty value
        var payload = new byte[8 + 2 + 1 + 8 + 2 + 4 + 4];
        payload[10] = 9;
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(11), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(19), 4);
        "safe"u8.CopyTo(payload.AsSpan(21));
        await socket.SendAsync(Frame((byte)OpCode.SnapshotHistory, 11, payload));
        var reply = await ReadReplyAsync(socket);
        Assert.Equal((OpCode.Error, 0UL, ErrorCode.Malformed), (reply!.Value.Op, reply.Value.Id, reply.Value.Code));
        Assert.Contains("Refused: a Hello claiming server 7, which is not another server of configuration epoch", reply.Value.Message, StringComparison.Ordinal);
        Assert.Null(await ReadReplyAsync(socket)); // closed: the replication frame was never handled
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task An_unknown_operation_code_is_rejected_by_name()
    {
        using var socket = await RawAsync();
        await socket.SendAsync(Frame(200, 9, [1, 2, 3]));
        var reply = await ReadReplyAsync(socket);
        Assert.Equal(ErrorCode.UnknownOpCode, reply!.Value.Code);
        Assert.Contains("200", reply.Value.Message, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task An_oversized_key_is_rejected_as_too_large()
    {
        using var socket = await RawAsync();
        var payload = new byte[2 + 2000 + 4];
        BinaryPrimitives.WriteUInt16LittleEndian(payload, 2000);
        await socket.SendAsync(Frame((byte)OpCode.Put, 3, payload));
        var reply = await ReadReplyAsync(socket);
        Assert.Equal(ErrorCode.TooLarge, reply!.Value.Code);
        Assert.Contains($"{ChainLimits.MaxKeyBytes}", reply.Value.Message, StringComparison.Ordinal);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task An_oversized_frame_length_closes_only_that_connection()
    {
        using var socket = await RawAsync();
        var header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, 64 * 1024 * 1024);
        await socket.SendAsync(header);
        var reply = await ReadReplyAsync(socket);
        Assert.Equal(ErrorCode.TooLarge, reply!.Value.Code);
        Assert.Null(await ReadReplyAsync(socket)); // then closed
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Random_garbage_frames_never_crash_or_corrupt_the_server()
    {
        var random = new Random(42);
        using var socket = await RawAsync();
        for (var i = 0; i < 300; i++)
        {
            var payload = new byte[random.Next(0, 64)];
            random.NextBytes(payload);
            var op = (byte)random.Next(0, 80);
            await socket.SendAsync(Frame(op, (ulong)i + 1, payload));
        }
        await socket.SendAsync(Frame((byte)OpCode.GetConfig, 100_000, []));
        while (true)
        {
            var reply = await ReadReplyAsync(socket);
            Assert.NotNull(reply);
            if (reply.Value.Id == 100_000)
                break;
        }
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task The_client_rejects_oversized_keys_and_values_before_sending()
    {
        var key = await Assert.ThrowsAsync<ArgumentException>(() => _client.PutAsync(new string('k', ChainLimits.MaxKeyBytes + 1), Bytes("v")));
        Assert.Contains("1024", key.Message, StringComparison.Ordinal);
        var value = await Assert.ThrowsAsync<ArgumentException>(() => _client.PutAsync("k", new byte[ChainLimits.MaxValueBytes + 1]));
        Assert.Contains("at most", value.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => _client.GetAsync("\0lease"));
    }
}
