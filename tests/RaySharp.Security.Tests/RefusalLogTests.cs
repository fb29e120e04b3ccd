using System.Net;
using Microsoft.Extensions.Logging;

namespace RaySharp.Security.Tests;

public sealed class RefusalLogTests
{
    [Fact]
    public void Refusals_are_logged_with_the_peer_at_most_ten_a_minute_and_the_rest_counted()
    {
        var logger = new CollectingLogger();
        var time = new ManualTime();
        var log = new RefusalLog(logger, time);
        var peer = IPEndPoint.Parse("10.1.2.3:4567");

        for (var i = 0; i < 25; i++)
            log.Refused(peer, "wrong proof of the cluster token");
        Assert.Equal(RefusalLog.LogsPerMinute, logger.Messages.Count);
        Assert.Contains("10.1.2.3:4567", logger.Messages[0], StringComparison.Ordinal);
        Assert.Contains("wrong proof", logger.Messages[0], StringComparison.Ordinal);

        time.Advance(TimeSpan.FromMinutes(1));
        log.Refused(peer, "again");
        Assert.Equal(RefusalLog.LogsPerMinute + 1, logger.Messages.Count);
        Assert.Contains("(15 earlier refusals were not logged", logger.Messages[^1], StringComparison.Ordinal);
        Assert.Equal(26, log.Total);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _now = 1;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _now;

        public void Advance(TimeSpan by) => _now += by.Ticks;
    }

    private sealed class CollectingLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
