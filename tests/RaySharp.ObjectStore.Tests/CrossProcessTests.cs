using System.Diagnostics;

namespace RaySharp.ObjectStore.Tests;

public sealed class CrossProcessTests
{
    [Fact]
    public async Task A_second_process_reads_the_written_object_in_place_and_writes_one_back()
    {
        using var f = new StoreFixture();
        var key = new TestKey(0x1000);
        var payload = StoreFixture.Pattern(100_000, 5);
        await f.Client.PutAsync(key, payload);
        using var session = new ObjectStoreSession<TestKey>(f.Store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var child = StartChild("read", f.Store.Directory, key);
        var pipe = new FramedPipe(child.StandardOutput.BaseStream, child.StandardInput.BaseStream);
        var stderr = child.StandardError.ReadToEndAsync(timeout.Token);

        var first = await Await(pipe.ServeUntilTextAsync(session, timeout.Token), "the child's first read", child);
        Assert.Equal(1, f.Store.Lookup(key)!.Value.PinCount);
        Assert.Equal(1, session.PinCount);
        // The child holds its view; change the bytes under it through the arena file.
        using (var arena = new FileStream(Path.Combine(f.Store.Directory, "arena"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            arena.Position = f.Store.Pin(key).DataOffset;
            arena.Write([0xCA, 0xFE]);
        }
        f.Store.Release(key);
        await pipe.SendTextAsync("check", timeout.Token);
        var second = await Await(pipe.ServeUntilTextAsync(session, timeout.Token), "the child's second read", child);
        var info = await Await(pipe.ServeUntilTextAsync(session, timeout.Token), "the child's write", child);
        var error = await Await(pipe.ServeUntilTextAsync(session, timeout.Token), "the child's bad read", child);
        var done = await Await(pipe.ServeUntilTextAsync(session, timeout.Token), "the child's end", child);
        await child.WaitForExitAsync(timeout.Token);

        Assert.True(child.ExitCode == 0, $"child exited with {child.ExitCode}: {await stderr}");
        Assert.Equal("seen " + Convert.ToHexString(payload.AsSpan(0, 16)), first);
        Assert.Equal("seen CAFE" + Convert.ToHexString(payload.AsSpan(2, 14)), second);
        Assert.Equal("info " + new ObjectInfo(ObjectState.Sealed, 256, 4, 0), info);
        Assert.Equal(("error NotFound", "done"), (error, done));
        Assert.Equal(0, f.Store.Lookup(key)!.Value.PinCount);
        await using var written = await f.Client.GetAsync(new TestKey(key.Value + 1));
        Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), written.Data.ToArray());
        Assert.Equal("meta"u8.ToArray(), written.Metadata.ToArray());
        Assert.Null(f.Store.Lookup(new TestKey(key.Value + 2)));
    }

    [Fact]
    public async Task A_killed_process_leaves_no_pins_or_reservations_once_its_session_is_disposed()
    {
        using var f = new StoreFixture();
        var key = new TestKey(0x2000);
        await f.Client.PutAsync(key, new byte[5000]);
        var session = new ObjectStoreSession<TestKey>(f.Store);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var child = StartChild("hold", f.Store.Directory, key);
        var pipe = new FramedPipe(child.StandardOutput.BaseStream, child.StandardInput.BaseStream);

        var held = await Await(pipe.ServeUntilTextAsync(session, timeout.Token), "the child to pin and reserve", child);
        Assert.Equal("held 5000 1000", held);
        Assert.Equal(1, f.Store.GetStats().PinnedCount);
        Assert.Equal(ObjectState.Unsealed, f.Store.Lookup(new TestKey(key.Value + 1))!.Value.State);

        child.Kill();
        await child.WaitForExitAsync(timeout.Token);
        session.Dispose();

        Assert.Equal(0, f.Store.GetStats().PinnedCount);
        Assert.Null(f.Store.Lookup(new TestKey(key.Value + 1)));
        Assert.Equal(5056, f.Store.GetStats().UsedBytes);
    }

    private static Process StartChild(string mode, string directory, TestKey key)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { typeof(Program).Assembly.Location, "child", mode, directory, key.ToString() })
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static async Task<string> Await(Task<string> step, string what, Process child)
    {
        try
        {
            return await step;
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException)
        {
            child.Kill();
            throw new TimeoutException($"Waited in vain for {what}: {e.Message}", e);
        }
    }
}
