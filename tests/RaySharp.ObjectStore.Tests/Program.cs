using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RaySharp.ObjectStore.Tests;

/// <summary>
/// The test assembly is also the child process of <see cref="CrossProcessTests"/>:
/// <c>dotnet RaySharp.ObjectStore.Tests.dll child read|hold &lt;store folder&gt; &lt;key&gt;</c>. The child
/// reaches the store only through <see cref="RemoteObjectStoreControl{TKey}"/> over framed stdin/stdout,
/// as a worker reaches it through the runtime's transport.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["child", var mode and ("read" or "hold"), var directory, var keyText])
        {
            await Console.Error.WriteLineAsync("usage: RaySharp.ObjectStore.Tests child read|hold <store folder> <key>");
            return 2;
        }
        var key = TestKey.Parse(keyText);
        var pipe = new FramedPipe(Console.OpenStandardInput(), Console.OpenStandardOutput());
        var control = new RemoteObjectStoreControl<TestKey>(pipe.CallAsync);
        using var client = new ObjectStoreClient<TestKey>(control, directory);

        if (mode == "hold")
        {
            // Pin an object and leave another unsealed, then wait to be killed.
            var held = await client.GetAsync(key);
            var unsealed = await client.CreateAsync(new TestKey(key.Value + 1), dataSize: 1000);
            await pipe.SendTextAsync($"held {held.Data.Length} {unsealed.Location.DataSize}");
            await pipe.ReadFrameAsync();
            return 0;
        }

        // 1. Read the parent's object in place, twice from the same memory: the parent changes the
        //    arena file between the two reads.
        var view = await client.GetAsync(key);
        var data = view.Data;
        await pipe.SendTextAsync("seen " + Convert.ToHexString(data.Span[..16]));
        if (Encoding.UTF8.GetString((await pipe.ReadFrameAsync()).Span) != "check")
            return 3;
        await pipe.SendTextAsync("seen " + Convert.ToHexString(data.Span[..16]));
        await view.DisposeAsync();

        // 2. Write an object for the parent to read; abort another; look the first up.
        await using (var writer = await client.CreateAsync(new TestKey(key.Value + 1), dataSize: 256, metadataSize: 4))
        {
            for (var i = 0; i < 256; i++)
                writer.Data.Span[i] = (byte)i;
            "meta"u8.CopyTo(writer.Metadata.Span);
            await writer.SealAsync();
        }
        var aborted = await client.CreateAsync(new TestKey(key.Value + 2), dataSize: 100);
        await aborted.DisposeAsync();
        await pipe.SendTextAsync($"info {await control.LookupAsync(new TestKey(key.Value + 1))}");

        // 3. Errors cross the pipe as the same exceptions.
        try
        {
            await client.GetAsync(new TestKey(key.Value + 3));
        }
        catch (ObjectStoreException e) when (e.Error == ObjectStoreError.NotFound)
        {
            await pipe.SendTextAsync("error " + e.Error);
        }
        await pipe.SendTextAsync("done");
        return 0;
    }
}

/// <summary>
/// Frames over a pair of streams: <c>[length u32][kind u8][bytes]</c>, kind 'R' for a control request or
/// reply, 'T' for a line of text between the test and its child.
/// </summary>
internal sealed class FramedPipe(Stream input, Stream output)
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public async ValueTask<ReadOnlyMemory<byte>> CallAsync(ReadOnlyMemory<byte> request, CancellationToken cancellationToken)
    {
        await SendAsync((byte)'R', request, cancellationToken);
        return await ReadFrameAsync(cancellationToken);
    }

    public Task SendTextAsync(string text, CancellationToken cancellationToken = default) =>
        SendAsync((byte)'T', Encoding.UTF8.GetBytes(text), cancellationToken);

    public async Task SendAsync(byte kind, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        var frame = new byte[5 + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length + 1);
        frame[4] = kind;
        body.CopyTo(frame.AsMemory(5));
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await output.WriteAsync(frame, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reads the next frame's body (without its kind).</summary>
    public async Task<ReadOnlyMemory<byte>> ReadFrameAsync(CancellationToken cancellationToken = default) =>
        (await ReadKindAndBodyAsync(cancellationToken)).Body;

    public async Task<(byte Kind, ReadOnlyMemory<byte> Body)> ReadKindAndBodyAsync(CancellationToken cancellationToken = default)
    {
        var header = new byte[5];
        await input.ReadExactlyAsync(header, cancellationToken);
        var body = new byte[BinaryPrimitives.ReadInt32LittleEndian(header) - 1];
        await input.ReadExactlyAsync(body, cancellationToken);
        return (header[4], body);
    }

    /// <summary>The store side: answers request frames through <paramref name="session"/> until a text frame arrives.</summary>
    public async Task<string> ServeUntilTextAsync(ObjectStoreSession<TestKey> session, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (kind, body) = await ReadKindAndBodyAsync(cancellationToken);
            if (kind == (byte)'T')
                return Encoding.UTF8.GetString(body.Span);
            var reply = new ArrayBufferWriter<byte>();
            session.Handle(body.Span, reply);
            await SendAsync((byte)'R', reply.WrittenMemory, cancellationToken);
        }
    }
}
