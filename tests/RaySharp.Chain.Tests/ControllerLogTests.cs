using System.Net;
using RaySharp.Chain.Controller;

namespace RaySharp.Chain.Tests;

/// <summary>The controller's configuration log: preallocated, checksummed records, a torn last record cut off on reopening.</summary>
public sealed class ControllerLogTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "raysharp-controller-log-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
            Directory.Delete(_directory, recursive: true);
    }

    private static ChainConfig Config(long epoch) => new(epoch, 2,
        new Dictionary<int, IPEndPoint> { [0] = new(IPAddress.Loopback, 7001), [1] = new(IPAddress.Loopback, 7002) },
        [[0, 1], [1, (int)(epoch % 2)]], [ChainConfig.NoJoiner, ChainConfig.NoJoiner]);

    private string LogPath => Path.Combine(_directory, "controller.log");

    [Fact]
    public void A_reopened_log_resumes_from_the_last_configuration_appended()
    {
        using (var log = new ControllerLog(_directory))
        {
            Assert.Null(log.Last);
            for (var epoch = 1; epoch <= 3; epoch++)
                log.Append(Config(epoch));
        }
        Assert.True(new FileInfo(LogPath).Length >= 1 << 20, "the log file should be preallocated ahead of its records");
        using var reopened = new ControllerLog(_directory);
        Assert.Equal(3, reopened.Last?.Epoch);
        Assert.Equal([1, 1], reopened.Last!.Chains[1]);
    }

    [Fact]
    public void A_torn_last_record_is_cut_off_and_later_appends_survive_the_next_reopening()
    {
        long endOfSecond;
        using (var log = new ControllerLog(_directory))
        {
            log.Append(Config(1));
            log.Append(Config(2));
            endOfSecond = RecordsEnd();
            log.Append(Config(3));
        }
        // A crash in the middle of writing record 3: its length is there, the end of its body is not.
        var bytes = File.ReadAllBytes(LogPath);
        var endOfThird = RecordsEnd();
        Array.Clear(bytes, (int)(endOfSecond + (endOfThird - endOfSecond) / 2), (int)((endOfThird - endOfSecond) / 2));
        File.WriteAllBytes(LogPath, bytes);

        using (var log = new ControllerLog(_directory))
        {
            Assert.Equal(2, log.Last?.Epoch);
            log.Append(Config(4));
        }
        using var reopened = new ControllerLog(_directory);
        Assert.Equal(4, reopened.Last?.Epoch);
    }

    /// <summary>Where the records end: the first zero length after a chain of u32 length | u32 crc | body records.</summary>
    private long RecordsEnd()
    {
        var bytes = File.ReadAllBytes(LogPath);
        var position = 0;
        while (position + 8 <= bytes.Length && BitConverter.ToInt32(bytes, position) is > 0 and var length)
            position += 8 + length;
        return position;
    }
}
