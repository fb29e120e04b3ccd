using System.Net;
using Microsoft.Extensions.Logging;

namespace RaySharp.Security;

/// <summary>
/// Logs refused connections with the peer's address, at most <see cref="LogsPerMinute"/> a minute: a stranger
/// hammering a port must not fill the disk or drown other logs. Refusals past the limit are counted and reported
/// with the next one logged. Thread-safe.
/// </summary>
public sealed partial class RefusalLog
{
    /// <summary>Refusals logged in full per minute (10); the rest are counted.</summary>
    public const int LogsPerMinute = 10;

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _windowStart;
    private int _inWindow;
    private long _suppressed;
    private long _total;

    /// <summary>A refusal log writing to <paramref name="logger"/>, timed by <paramref name="time"/> (default: the system clock).</summary>
    public RefusalLog(ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _windowStart = _time.GetTimestamp();
    }

    /// <summary>Connections refused so far.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>Records one refused connection from <paramref name="peer"/> and why.</summary>
    public void Refused(EndPoint? peer, string reason)
    {
        Interlocked.Increment(ref _total);
        long suppressed;
        lock (_gate)
        {
            if (_time.GetElapsedTime(_windowStart) >= TimeSpan.FromMinutes(1))
            {
                _windowStart = _time.GetTimestamp();
                _inWindow = 0;
            }
            if (_inWindow >= LogsPerMinute)
            {
                _suppressed++;
                return;
            }
            _inWindow++;
            suppressed = _suppressed;
            _suppressed = 0;
        }
        LogRefused(_logger, peer?.ToString() ?? "unknown", reason, suppressed);
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning,
        Message = "Refused a connection from {Peer}: {Reason} ({Suppressed} earlier refusals were not logged: at most 10 a minute are).")]
    private static partial void LogRefused(ILogger logger, string peer, string reason, long suppressed);
}
