using System.Security.Authentication;

namespace RaySharp.Security.Tests;

public sealed class TokenHandshakeTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Two_holders_of_the_same_token_accept_each_other_and_the_server_learns_the_claimed_identity()
    {
        var token = ClusterToken.Generate();
        await using var pipe = await Loopback.OpenAsync();
        var server = TokenHandshake.AuthenticateAsServerAsync(pipe.Server, token, Limit);
        await TokenHandshake.AuthenticateAsClientAsync(pipe.Client, token, "server/3", Limit);
        Assert.Equal("server/3", await server);

        // Nothing past the handshake was read: the next bytes arrive intact.
        await pipe.Client.WriteAsync("frame"u8.ToArray());
        var next = new byte[5];
        await pipe.Server.ReadExactlyAsync(next);
        Assert.Equal("frame"u8.ToArray(), next);
    }

    [Fact]
    public async Task A_client_with_a_different_token_refuses_the_server_and_is_refused_by_it()
    {
        await using var pipe = await Loopback.OpenAsync();
        var server = TokenHandshake.AuthenticateAsServerAsync(pipe.Server, ClusterToken.Generate(), Limit);
        var client = await Assert.ThrowsAsync<AuthenticationException>(() =>
            TokenHandshake.AuthenticateAsClientAsync(pipe.Client, ClusterToken.Generate(), "client", Limit));
        Assert.Contains("different token", client.Message, StringComparison.Ordinal);
        pipe.Client.Close(); // the client gives up, as a real one does
        var refused = await Assert.ThrowsAsync<AuthenticationException>(() => server);
        Assert.Contains("claiming 'client'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stranger_that_speaks_the_frame_protocol_is_refused_before_anything_else_is_read()
    {
        await using var pipe = await Loopback.OpenAsync();
        var server = TokenHandshake.AuthenticateAsServerAsync(pipe.Server, ClusterToken.Generate(), Limit);
        // The spoofed Hello: u32 length 13, opcode 16, request id 0, server id 1.
        await pipe.Client.WriteAsync(new byte[] { 13, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
        var e = await Assert.ThrowsAsync<AuthenticationException>(() => server);
        Assert.Contains("something other than a token handshake", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recorded_client_handshake_replayed_to_the_server_is_refused()
    {
        var token = ClusterToken.Generate();
        // Record what a legitimate client sends.
        byte[] hello;
        byte[] proof;
        await using (var pipe = await Loopback.OpenAsync())
        {
            var server = TokenHandshake.AuthenticateAsServerAsync(pipe.Server, token, Limit);
            var recorder = new RecordingStream(pipe.Client);
            await TokenHandshake.AuthenticateAsClientAsync(recorder, token, "client", Limit);
            await server;
            var written = recorder.Written.ToArray();
            hello = written[..(4 + 32 + 1 + "client".Length)];
            proof = written[hello.Length..];
        }
        // Replay it word for word: the server's nonce is new, so the old proof is wrong.
        await using (var pipe = await Loopback.OpenAsync())
        {
            var server = TokenHandshake.AuthenticateAsServerAsync(pipe.Server, token, Limit);
            await pipe.Client.WriteAsync(hello);
            var answer = new byte[4 + 32 + 32];
            await pipe.Client.ReadExactlyAsync(answer);
            await pipe.Client.WriteAsync(proof);
            var verdict = new byte[1];
            await pipe.Client.ReadExactlyAsync(verdict);
            Assert.Equal(0, verdict[0]);
            var e = await Assert.ThrowsAsync<AuthenticationException>(() => server);
            Assert.Contains("wrong proof", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_servers_own_proof_reflected_back_as_the_clients_is_refused()
    {
        var token = ClusterToken.Generate();
        await using var pipe = await Loopback.OpenAsync();
        var server = TokenHandshake.AuthenticateAsServerAsync(pipe.Server, token, Limit);
        var hello = new byte[4 + 32 + 1];
        "RSH1"u8.CopyTo(hello);
        Random.Shared.NextBytes(hello.AsSpan(4, 32));
        await pipe.Client.WriteAsync(hello);
        var answer = new byte[4 + 32 + 32];
        await pipe.Client.ReadExactlyAsync(answer);
        await pipe.Client.WriteAsync(answer.AsMemory(4 + 32)); // the server's proof, sent back
        var verdict = new byte[1];
        await pipe.Client.ReadExactlyAsync(verdict);
        Assert.Equal(0, verdict[0]);
        await Assert.ThrowsAsync<AuthenticationException>(() => server);
    }

    [Fact]
    public async Task A_peer_that_never_finishes_the_handshake_times_out()
    {
        await using var pipe = await Loopback.OpenAsync();
        await Assert.ThrowsAsync<TimeoutException>(() =>
            TokenHandshake.AuthenticateAsServerAsync(pipe.Server, ClusterToken.Generate(), TimeSpan.FromMilliseconds(100)));
    }

    /// <summary>Passes everything through and keeps a copy of what was written.</summary>
    private sealed class RecordingStream(Stream inner) : Stream
    {
        public MemoryStream Written { get; } = new();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            Written.Write(buffer, offset, count);
            inner.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written.Write(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
