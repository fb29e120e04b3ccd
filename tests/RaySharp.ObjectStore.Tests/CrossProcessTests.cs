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

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { typeof(Program).Assembly.Location, "child", f.Store.Directory, key.ToString() })
            start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync(timeout.Token);
        var seen = new List<string>();
        string? info = null;
        try
        {
            while (await child.StandardOutput.ReadLineAsync(timeout.Token) is { } line && line != "done")
            {
                if (line.StartsWith("seen ", StringComparison.Ordinal))
                {
                    seen.Add(line[5..]);
                    if (seen.Count == 1)
                    {
                        // The child holds its view; change the bytes under it through the arena file.
                        Assert.Equal(1, f.Store.Lookup(key)!.Value.PinCount);
                        using (var arena = new FileStream(Path.Combine(f.Store.Directory, "arena"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                        {
                            arena.Position = f.Store.Pin(key).DataOffset;
                            arena.Write([0xCA, 0xFE]);
                        }
                        f.Store.Release(key);
                        await child.StandardInput.WriteLineAsync("check");
                        await child.StandardInput.FlushAsync();
                    }
                }
                else if (line.StartsWith("info ", StringComparison.Ordinal))
                {
                    info = line[5..];
                }
                else
                {
                    await child.StandardInput.WriteLineAsync(PipeControl.Serve(f.Store, line));
                    await child.StandardInput.FlushAsync();
                }
            }
            await child.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            throw new TimeoutException($"The child process did not finish its read/write exchange within 60 s; it reported {seen.Count} reads.");
        }

        Assert.True(child.ExitCode == 0, $"child exited with {child.ExitCode}: {await stderr}");
        Assert.Equal(Convert.ToHexString(payload.AsSpan(0, 16)), seen[0]);
        Assert.Equal("CAFE" + Convert.ToHexString(payload.AsSpan(2, 14)), seen[1]);
        Assert.Equal(0, f.Store.Lookup(key)!.Value.PinCount);

        await using var written = await f.Client.GetAsync(new TestKey(key.Value + 1));
        Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray(), written.Data.ToArray());
        Assert.Equal("meta"u8.ToArray(), written.Metadata.ToArray());
        Assert.Null(f.Store.Lookup(new TestKey(key.Value + 2)));
        Assert.Equal(new ObjectInfo(ObjectState.Sealed, 256, 4, 0).ToString(), info);
    }
}
