using System.Globalization;

namespace RaySharp.ObjectStore.Tests;

/// <summary>
/// The test assembly is also the child process of <see cref="CrossProcessTests"/>:
/// <c>dotnet RaySharp.ObjectStore.Tests.dll child &lt;store folder&gt; &lt;key&gt;</c>. The child reaches the
/// store only through <see cref="PipeControl"/> (stdin/stdout), as a worker reaches it through the runtime.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["child", var directory, var keyText])
        {
            await Console.Error.WriteLineAsync("usage: RaySharp.ObjectStore.Tests child <store folder> <key>");
            return 2;
        }
        var key = TestKey.Parse(keyText);
        var control = new PipeControl(Console.In, Console.Out);
        using var client = new ObjectStoreClient<TestKey>(control, directory);

        // 1. Read the parent's object in place, twice from the same memory: the parent changes the
        //    arena file between the two reads.
        var view = await client.GetAsync(key);
        var data = view.Data;
        await control.SendAsync("seen " + Convert.ToHexString(data.Span[..16]));
        if (await Console.In.ReadLineAsync() != "check")
            return 3;
        await control.SendAsync("seen " + Convert.ToHexString(data.Span[..16]));
        await view.DisposeAsync();

        // 2. Write an object for the parent to read; abort another.
        await using (var writer = await client.CreateAsync(new TestKey(key.Value + 1), dataSize: 256, metadataSize: 4))
        {
            for (var i = 0; i < 256; i++)
                writer.Data.Span[i] = (byte)i;
            "meta"u8.CopyTo(writer.Metadata.Span);
            await writer.SealAsync();
        }
        var aborted = await client.CreateAsync(new TestKey(key.Value + 2), dataSize: 100);
        await aborted.DisposeAsync();
        var info = await control.LookupAsync(new TestKey(key.Value + 1));
        await control.SendAsync($"info {info}");
        await control.SendAsync("done");
        return 0;
    }
}

/// <summary>
/// <see cref="IObjectStoreControl{TKey}"/> as one line per request and reply over two text streams — the
/// shape of what the runtime carries over its own transport.
/// </summary>
internal sealed class PipeControl(TextReader input, TextWriter output) : IObjectStoreControl<TestKey>
{
    public async Task SendAsync(string line)
    {
        await output.WriteLineAsync(line);
        await output.FlushAsync();
    }

    public async ValueTask<ObjectLocation> ReserveAsync(TestKey key, long dataSize, int metadataSize, CancellationToken cancellationToken = default) =>
        ParseLocation(await CallAsync($"reserve {key} {dataSize} {metadataSize}"));

    public async ValueTask SealAsync(TestKey key, long dataSize, CancellationToken cancellationToken = default) =>
        await CallAsync($"seal {key} {dataSize}");

    public async ValueTask<ObjectLocation> PinAsync(TestKey key, CancellationToken cancellationToken = default) =>
        ParseLocation(await CallAsync($"pin {key}"));

    public async ValueTask ReleaseAsync(TestKey key, CancellationToken cancellationToken = default) =>
        await CallAsync($"release {key}");

    public async ValueTask<bool> DeleteAsync(TestKey key, CancellationToken cancellationToken = default) =>
        bool.Parse(await CallAsync($"delete {key}"));

    public async ValueTask<ObjectInfo?> LookupAsync(TestKey key, CancellationToken cancellationToken = default)
    {
        var reply = (await CallAsync($"lookup {key}")).Split(' ');
        return reply[0] == "none" ? null : new ObjectInfo(Enum.Parse<ObjectState>(reply[0]), long.Parse(reply[1], CultureInfo.InvariantCulture),
            int.Parse(reply[2], CultureInfo.InvariantCulture), int.Parse(reply[3], CultureInfo.InvariantCulture));
    }

    /// <summary>The store side: executes one request line and returns the reply line.</summary>
    public static string Serve(SharedMemoryObjectStore<TestKey> store, string request)
    {
        var parts = request.Split(' ');
        var key = TestKey.Parse(parts[1]);
        try
        {
            return parts[0] switch
            {
                "reserve" => "ok " + Format(store.Reserve(key, long.Parse(parts[2], CultureInfo.InvariantCulture), int.Parse(parts[3], CultureInfo.InvariantCulture))),
                "seal" => Done(() => store.Seal(key, long.Parse(parts[2], CultureInfo.InvariantCulture))),
                "pin" => "ok " + Format(store.Pin(key)),
                "release" => Done(() => store.Release(key)),
                "delete" => "ok " + store.Delete(key),
                "lookup" => store.Lookup(key) is { } i ? $"ok {i.State} {i.DataSize} {i.MetadataSize} {i.PinCount}" : "ok none",
                _ => throw new InvalidOperationException($"Unknown request '{request}'."),
            };
        }
        catch (ObjectStoreException e)
        {
            return $"err {e.Error} {e.Message}";
        }
    }

    private static string Done(Action action)
    {
        action();
        return "ok";
    }

    private static string Format(ObjectLocation l) => $"{l.Offset} {l.DataSize} {l.MetadataSize}";

    private static ObjectLocation ParseLocation(string reply)
    {
        var p = reply.Split(' ');
        return new ObjectLocation(long.Parse(p[0], CultureInfo.InvariantCulture), long.Parse(p[1], CultureInfo.InvariantCulture), int.Parse(p[2], CultureInfo.InvariantCulture));
    }

    private async Task<string> CallAsync(string request)
    {
        await SendAsync(request);
        var reply = await input.ReadLineAsync() ?? throw new EndOfStreamException($"The store side closed the pipe before answering '{request}'.");
        if (reply.StartsWith("err ", StringComparison.Ordinal))
        {
            var parts = reply.Split(' ', 3);
            throw ObjectStoreException.Create(Enum.Parse<ObjectStoreError>(parts[1]), parts[2]);
        }
        return reply.Length > 3 ? reply[3..] : "";
    }
}
