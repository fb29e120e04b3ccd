using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Client;

/// <summary>One committed change seen by a watch.</summary>
/// <param name="Key">The key that changed.</param>
/// <param name="Value">Its new value, or null when it was deleted.</param>
/// <param name="Version">The key's version after the change.</param>
/// <param name="IsInitial">True for the state the watch started from (not a change).</param>
/// <param name="Compacted">True when versions between the last one delivered and this one were lost while the
/// watch was reconnecting (the tail keeps each group's last 4096 changes); this event carries the current value.</param>
public readonly record struct ChainWatchEvent(string Key, byte[]? Value, long Version, bool IsInitial, bool Compacted);

public sealed partial class ChainClient
{
    private readonly ConcurrentDictionary<(FramedConnection, ulong), WatchSubscription> _watches = new();

    private sealed class WatchSubscription(Channel<ChainWatchEvent> events, ConcurrentDictionary<string, long> known)
    {
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>True once the tail has sent this subscription anything (for an exact key: its initial state).</summary>
        public bool Started { get; private set; }

        public void Deliver(ChainWatchEvent e)
        {
            Started = true;
            // Per key, versions only move forward: duplicates after a resume are dropped.
            var last = known.GetValueOrDefault(e.Key, -1);
            if (e.Version <= last && !(e.IsInitial && last < 0))
                return;
            known[e.Key] = e.Version;
            events.Writer.TryWrite(e);
        }
    }

    /// <summary>
    /// Streams every committed change of <paramref name="key"/> (or of every key starting with it when
    /// <paramref name="prefix"/> is true), in version order per key, from the tails of the groups holding
    /// them. An exact-key watch first yields the key's current state (<see cref="ChainWatchEvent.IsInitial"/>).
    /// After a failover or a dropped connection the watch resumes at the new tail from the last version
    /// delivered, without a gap (see <see cref="ChainWatchEvent.Compacted"/> for the one exception).
    /// </summary>
    public async IAsyncEnumerable<ChainWatchEvent> WatchAsync(string key, bool prefix = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!prefix)
            CheckKey(key);
        var config = _config ?? await RefreshAsync(cancellationToken).ConfigureAwait(false);
        var events = Channel.CreateUnbounded<ChainWatchEvent>();
        var known = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        var groups = prefix ? Enumerable.Range(0, config.GroupCount) : [Placement.GroupOf(key, config.GroupCount)];
        var loops = groups.Select(g => Task.Run(() => SubscribeLoopAsync(g, key, prefix, events, known, stop.Token))).ToArray();
        try
        {
            while (await events.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
            {
                while (events.Reader.TryRead(out var e))
                    yield return e;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
    }

    private async Task SubscribeLoopAsync(int g, string key, bool prefix, Channel<ChainWatchEvent> events, ConcurrentDictionary<string, long> known, CancellationToken cancellationToken)
    {
        var resume = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            FramedConnection? connection = null;
            ulong id = 0;
            try
            {
                var config = _config ?? await RefreshAsync(cancellationToken).ConfigureAwait(false);
                var tail = config.Tail(g);
                if (tail >= 0)
                {
                    connection = await ConnectionTo(tail, config).ConfigureAwait(false);
                    id = connection.NextRequestId();
                    var subscription = new WatchSubscription(events, known);
                    _watches[(connection, id)] = subscription;
                    var frame = new FrameBuilder(OpCode.Watch, id, 64).U16((ushort)g).U8((byte)((prefix ? 1 : 0) | (resume ? 2 : 0))).Key(key);
                    var mine = known.Where(k => Placement.GroupOf(k.Key, config.GroupCount) == g).ToList();
                    frame.I32(mine.Count);
                    foreach (var (k, version) in mine)
                        frame.Key(k).I64(version);
                    connection.Send(frame.Build());
                    await Task.WhenAny(subscription.Ended.Task, connection.Closed, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                    // Resume from what was delivered. An exact-key watch whose first attempt never got its initial
                    // state (the tail refused it, or the connection dropped first) starts afresh: a resume sends
                    // only versions newer than those known, so a key never written would never yield the
                    // initial state its caller waits for (a lock acquisition hung on this).
                    resume |= prefix || subscription.Started;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or ChainException)
            {
            }
            finally
            {
                if (connection is not null)
                    _watches.TryRemove((connection, id), out _);
            }
            try
            {
                await PauseAndRefreshAsync(TimeSpan.FromMilliseconds(5), long.MaxValue, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return; // the watch was stopped during the pause: not an error of the watch
            }
        }
    }

    /// <summary>Frames a server sends without being asked: watch events, and the error that ends a watch.</summary>
    private ValueTask HandleServerFrameAsync(FramedConnection connection, Frame frame)
    {
        if (!_watches.TryGetValue((connection, frame.RequestId), out var subscription))
            return ValueTask.CompletedTask;
        if (frame.Op == OpCode.Error)
        {
            subscription.Ended.TrySetResult();
            return ValueTask.CompletedTask;
        }
        if (frame.Op != OpCode.WatchEvent)
            return ValueTask.CompletedTask;
        var reader = frame.Reader();
        var key = reader.Key();
        var version = reader.I64();
        var kind = reader.U8();
        var flags = reader.U8();
        var value = reader.Bytes();
        reader.End();
        subscription.Deliver(new ChainWatchEvent(key, kind == 1 ? value : null, version, (flags & 1) != 0, (flags & 2) != 0));
        return ValueTask.CompletedTask;
    }
}
