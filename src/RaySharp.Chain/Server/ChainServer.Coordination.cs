using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using RaySharp.Chain.Client;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Server;

/// <summary>A watch registered at a tail: every committed change of a key or prefix in the group.</summary>
internal sealed record Watcher(FramedConnection Connection, ulong WatchId, string Key, bool Prefix)
{
    public bool Matches(string key) => Prefix ? key.StartsWith(Key, StringComparison.Ordinal) : key == Key;
}

/// <summary>Encodings shared by server and client for leases and locks.</summary>
internal static class Coordination
{
    public const string LeasePrefix = "\0lease/";
    /// <summary>Changes kept per group for resuming watches (<see cref="WatchHistory"/>).</summary>
    public const int HistoryDepth = 4096;

    /// <summary>Encoded bytes of changes kept per group for resuming watches (4 MiB): fewer than
    /// <see cref="HistoryDepth"/> changes are kept when their values are large (4096 values of 256 KiB would
    /// be 1 GiB). The newest change is always kept.</summary>
    public const int HistoryBytes = 4 * 1024 * 1024;

    /// <summary>The most recent changes per group a joiner receives with its snapshot for resuming watches.
    /// Fewer than <see cref="HistoryDepth"/>: every failure recovery snapshots each of the failed server's groups
    /// to a joiner while the shortened chains still carry the load, and the whole history made the failover
    /// benchmark's stalls about twice as long (docs/chain.md "Wire protocol").</summary>
    public const int SnapshotHistoryDepth = 256;

    public static string LeaseKey(long id) => LeasePrefix + id.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A lease record: u32 ttl ms, then attachments (u8 kind 'K' key or 'L' lock, u16 length, UTF-8 key).</summary>
    public static byte[] LeaseRecord(int ttlMs, IEnumerable<(byte Kind, string Key)> attached)
    {
        using var bytes = new MemoryStream();
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(u32, ttlMs);
        bytes.Write(u32);
        Span<byte> u16 = stackalloc byte[2];
        foreach (var (kind, key) in attached)
        {
            var utf8 = Encoding.UTF8.GetBytes(key);
            bytes.WriteByte(kind);
            BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)utf8.Length);
            bytes.Write(u16);
            bytes.Write(utf8);
        }
        return bytes.ToArray();
    }

    /// <summary>
    /// Reads a lease record; false (never an exception) when it is not one: shorter than its TTL, a TTL outside
    /// [10 ms, 1 day], an attachment of an unknown kind, cut short, or not UTF-8. Records arrive from peers and
    /// from the log, so a bad one must be skipped, not stop the lease loop or a configuration change (issue 14).
    /// </summary>
    public static bool TryParseLease(byte[]? record, out int ttlMs, out List<(byte Kind, string Key)> attached)
    {
        attached = [];
        ttlMs = 0;
        if (record is null || record.Length < 4)
            return false;
        ttlMs = BinaryPrimitives.ReadInt32LittleEndian(record);
        if (ttlMs is < MinLeaseTtlMs or > MaxLeaseTtlMs)
            return false;
        for (var i = 4; i < record.Length;)
        {
            if (i + 3 > record.Length)
                return false;
            var kind = record[i];
            var length = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(i + 1));
            if (kind is not ((byte)'K' or (byte)'L') || i + 3 + length > record.Length)
                return false;
            try
            {
                attached.Add((kind, StrictUtf8.GetString(record, i + 3, length)));
            }
            catch (DecoderFallbackException)
            {
                return false;
            }
            i += 3 + length;
        }
        return true;
    }

    /// <summary>The lease id in a lease key (<see cref="LeasePrefix"/> then 16 hexadecimal digits); false when it is not one.</summary>
    public static bool TryParseLeaseKey(string key, out long id)
    {
        id = 0;
        // The prefix first: a key shorter than it has no digits to slice (found by the fuzzer, fuzz/README.md).
        if (!key.StartsWith(LeasePrefix, StringComparison.Ordinal))
            return false;
        var digits = key.AsSpan(LeasePrefix.Length);
        return digits.Length == 16 &&
            long.TryParse(digits, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out id);
    }

    /// <summary>Shortest lease TTL (10 ms).</summary>
    public const int MinLeaseTtlMs = 10;

    /// <summary>Longest lease TTL (1 day).</summary>
    public const int MaxLeaseTtlMs = 86_400_000;

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    /// <summary>
    /// Checks a key a client sent (issue 14: a server must not rely on its clients' checks): refuses an empty key
    /// (unless <paramref name="allowEmpty"/>: a prefix watch of everything) and the keys starting with U+0000, which
    /// are reserved for the records leases and locks keep (a malformed one written from outside once stopped the
    /// lease loop). Lengths are bounded by the frame reader.
    /// </summary>
    public static void CheckClientKey(string key, bool allowEmpty = false)
    {
        if (key.Length == 0 && !allowEmpty)
            throw new ProtocolException(ErrorCode.Malformed, "Empty keys are not allowed: a key is 1 to 1024 UTF-8 bytes, and keys starting with U+0000 are reserved.");
        if (key.Length > 0 && key[0] == '\0')
            throw new ProtocolException(ErrorCode.Malformed, "Keys starting with U+0000 are reserved for leases and locks; use another key.");
    }

    /// <summary>A lock's value: the FIFO queue of lease ids (u64 each); the first holds the lock.</summary>
    public static List<long> ParseQueue(byte[]? value)
    {
        var queue = new List<long>();
        for (var i = 0; value is not null && i + 8 <= value.Length; i += 8)
            queue.Add(BinaryPrimitives.ReadInt64LittleEndian(value.AsSpan(i)));
        return queue;
    }

    public static byte[] Queue(List<long> queue)
    {
        var bytes = new byte[queue.Count * 8];
        for (var i = 0; i < queue.Count; i++)
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), queue[i]);
        return bytes;
    }
}

public sealed partial class ChainServer
{
    private ChainClient? _expiryClient;

    // ---- watches ----

    private void HandleWatch(FramedConnection connection, Frame frame)
    {
        var reader = frame.Reader();
        var g = reader.U16();
        var flags = reader.U8();
        var key = reader.Key();
        Coordination.CheckClientKey(key, allowEmpty: (flags & 1) != 0);
        var count = reader.I32();
        // Each resumed key takes at least 10 bytes (u16 length, u64 version): more than the rest of the frame holds is a lie.
        if (count < 0 || count > reader.Remaining / 10)
            throw new ProtocolException(ErrorCode.Malformed, $"Watch resumes {count} keys, more than its frame holds ({reader.Remaining} bytes left).");
        var known = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
            known[reader.Key()] = reader.I64();
        reader.End();
        if (_config is null || g >= _config.GroupCount || _config.Tail(g) != Me || !_groups.TryGetValue(g, out var state) || !state.Active || !HoldsReadLease)
        {
            connection.SendError(frame.RequestId, ErrorCode.NotTail, $"Server {Me} is not the serving tail of group {g}; refresh the configuration.");
            SuspectStale();
            return;
        }
        var watcher = new Watcher(connection, frame.RequestId, key, (flags & 1) != 0);
        var resume = (flags & 2) != 0;
        if (!resume && !watcher.Prefix)
        {
            SendEvent(watcher, key, state.Data.GetValueOrDefault(key), 1);
        }
        var history = resume ? state.History.Versions(watcher.Matches) : null;
        foreach (var (k, entry) in state.Data)
        {
            if (!watcher.Matches(k) || (!resume && !watcher.Prefix))
                continue;
            if (!resume)
            {
                SendEvent(watcher, k, entry, 1); // baseline: the version the watch starts from
                continue;
            }
            var from = known.GetValueOrDefault(k);
            if (entry.Seq <= from)
                continue;
            var missed = history![k].Where(e => e.Seq > from).ToList();
            if (Contiguous(missed, from, entry.Seq))
            {
                foreach (var e in missed)
                    SendEvent(watcher, k, e, 0);
            }
            else
            {
                SendEvent(watcher, k, entry, 2); // the versions in between are no longer kept
            }
        }
        state.Watchers.Add(watcher);
    }

    /// <summary>Whether <paramref name="missed"/> is exactly the versions after <paramref name="from"/> up to
    /// <paramref name="latest"/>, in order: replaying anything else would skip or repeat a version.</summary>
    private static bool Contiguous(List<Entry> missed, long from, long latest)
    {
        for (var i = 0; i < missed.Count; i++)
        {
            if (missed[i].Seq != from + 1 + i)
                return false;
        }
        return missed.Count > 0 && missed[^1].Seq == latest;
    }

    private void SendEvent(Watcher watcher, string key, Entry entry, byte flags) =>
        Emit(watcher.Connection, new FrameBuilder(OpCode.WatchEvent, watcher.WatchId, 24 + key.Length + (entry.Value?.Length ?? 0))
            .Key(key).I64(entry.Seq).U8(entry.Value is null ? ServerLog.KindTombstone : ServerLog.KindValue).U8(flags).Bytes(entry.Value ?? []).Build());

    private void NotifyWatchers(int g, GroupState state, string key, Entry entry)
    {
        foreach (var watcher in state.Watchers)
        {
            if (watcher.Matches(key))
                SendEvent(watcher, key, entry, 0);
        }
    }

    private void EndWatches(GroupState state, string why)
    {
        foreach (var watcher in state.Watchers)
        {
            Emit(watcher.Connection, new FrameBuilder(OpCode.Error, watcher.WatchId).U8((byte)ErrorCode.NotTail)
                .Text($"Server {Me} {why}; resume the watch at the new tail.").Build());
        }
        state.Watchers.Clear();
    }

    // ---- leases and locks, decided at the head ----

    private void HandleCoordination(FramedConnection connection, Frame frame)
    {
        var reader = frame.Reader();
        string key;
        long lease;
        if (frame.Op is OpCode.LockAcquire or OpCode.LockRelease)
        {
            key = reader.Key();
            Coordination.CheckClientKey(key);
            lease = reader.I64();
        }
        else
        {
            lease = reader.I64();
            key = Coordination.LeaseKey(lease);
        }
        var ttlMs = frame.Op == OpCode.LeaseGrant ? reader.I32() : 0;
        byte attachKind = 0;
        var attachKey = "";
        if (frame.Op == OpCode.LeaseKeepAlive)
        {
            attachKind = reader.U8();
            attachKey = reader.Key();
            if (attachKind is not (0 or (byte)'K' or (byte)'L'))
                throw new ProtocolException(ErrorCode.Malformed, $"Lease attachment kind {attachKind} is unknown: 0 (renew only), 'K' (key) or 'L' (lock).");
            if (attachKind != 0)
                Coordination.CheckClientKey(attachKey);
        }
        reader.End();
        if (frame.Op == OpCode.LeaseGrant && ttlMs is < Coordination.MinLeaseTtlMs or > Coordination.MaxLeaseTtlMs)
            throw new ProtocolException(ErrorCode.Malformed, $"Lease TTL {ttlMs} ms is outside [10 ms, 1 day].");
        if (!TryHeadOf(key, out var g, out var state, out var why))
        {
            connection.SendError(frame.RequestId, ErrorCode.NotHead, why);
            SuspectStale();
            return;
        }
        var current = state.Data.GetValueOrDefault(key);
        switch (frame.Op)
        {
            case OpCode.LeaseGrant:
                state.LeaseDeadlines[key] = Deadline(ttlMs);
                WriteAtHead(g, state, key, Coordination.LeaseRecord(ttlMs, []), connection, frame.RequestId, 1);
                return;
            case OpCode.LeaseKeepAlive or OpCode.LeaseRevoke:
                if (current.Value is null || !state.LeaseDeadlines.TryGetValue(key, out var deadline) || deadline == Expiring ||
                    !Coordination.TryParseLease(current.Value, out var ttl, out var attached))
                {
                    connection.SendError(frame.RequestId, ErrorCode.LeaseNotFound, $"Lease {lease:x16} does not exist or has expired; grant a new one.");
                    return;
                }
                if (frame.Op == OpCode.LeaseRevoke)
                {
                    state.LeaseDeadlines[key] = 0; // the expiry loop cleans up
                    Emit(connection, OkFrame(frame.RequestId, current.Seq, 1, null));
                    return;
                }
                state.LeaseDeadlines[key] = Deadline(ttl);
                if (attachKind is (byte)'K' or (byte)'L' && !attached.Contains((attachKind, attachKey)))
                {
                    if (current.Value.Length + 3 + Encoding.UTF8.GetByteCount(attachKey) > ChainLimits.MaxValueBytes)
                        throw new ProtocolException(ErrorCode.TooLarge, $"Lease {lease:x16} has as many keys and locks attached as its record holds ({ChainLimits.MaxValueBytes} bytes); use another lease.");
                    attached.Add((attachKind, attachKey));
                    WriteAtHead(g, state, key, Coordination.LeaseRecord(ttl, attached), connection, frame.RequestId, 1);
                    return;
                }
                Emit(connection, OkFrame(frame.RequestId, current.Seq, 1, null));
                return;
            default:
                {
                    var queue = Coordination.ParseQueue(current.Value);
                    if (frame.Op == OpCode.LockAcquire && !queue.Contains(lease) && (queue.Count + 1) * 8 > ChainLimits.MaxValueBytes)
                        throw new ProtocolException(ErrorCode.TooLarge, $"Lock '{key}' has {queue.Count} waiters, as many as its record holds; try again later.");
                    var changed = frame.Op == OpCode.LockAcquire
                        ? !queue.Contains(lease) && AddTo(queue, lease)
                        : queue.Remove(lease);
                    var front = (byte)(queue.Count > 0 && queue[0] == lease ? 1 : 0);
                    if (changed)
                        WriteAtHead(g, state, key, queue.Count == 0 ? null : Coordination.Queue(queue), connection, frame.RequestId, front);
                    else
                        Emit(connection, OkFrame(frame.RequestId, current.Seq, front, null));
                    return;
                }
        }
    }

    private static bool AddTo(List<long> queue, long lease)
    {
        queue.Add(lease);
        return true;
    }

    /// <summary>A lease being expired: no renewal can bring it back.</summary>
    private const long Expiring = long.MaxValue;

    private static long Deadline(int ttlMs) => Stopwatch.GetTimestamp() + ttlMs * Stopwatch.Frequency / 1000;

    /// <summary>A new head restarts every lease of the group at its full TTL: leases may last longer after a failover, never shorter.</summary>
    private void StartLeaseTimers(int g, GroupState state)
    {
        state.LeaseDeadlines.Clear();
        foreach (var (key, entry) in state.Data)
        {
            if (entry.Value is null || !key.StartsWith(Coordination.LeasePrefix, StringComparison.Ordinal))
                continue;
            // A malformed record (written before servers checked keys, or by a faulty peer) is skipped, never fatal.
            if (Coordination.TryParseLeaseKey(key, out _) && Coordination.TryParseLease(entry.Value, out var ttlMs, out _))
                state.LeaseDeadlines[key] = Deadline(ttlMs);
            else
                ServerEvents.MalformedLeaseSkipped(_options.Logger, Me, g, Printable(key));
        }
    }

    /// <summary>A key as a log shows it: control characters escaped.</summary>
    private static string Printable(string key) =>
        string.Concat(key.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>Expires leases whose head this server is: releases their locks and deletes their keys, then the lease.</summary>
    private async Task LeaseLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(20, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var expired = new List<(int Group, string Key, long Lease, List<(byte Kind, string Key)> Attached)>();
            lock (_gate)
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var (g, state) in _groups)
                {
                    foreach (var (key, deadline) in state.LeaseDeadlines.ToList())
                    {
                        if (deadline > now)
                            continue;
                        var record = state.Data.GetValueOrDefault(key).Value;
                        if (!Coordination.TryParseLeaseKey(key, out var id) || (record is not null && !Coordination.TryParseLease(record, out _, out _)))
                        {
                            // Never expected (StartLeaseTimers and LeaseGrant only time well-formed leases); skipped, the loop goes on.
                            state.LeaseDeadlines.Remove(key);
                            ServerEvents.MalformedLeaseSkipped(_options.Logger, Me, g, Printable(key));
                            continue;
                        }
                        state.LeaseDeadlines[key] = Expiring;
                        Coordination.TryParseLease(record, out _, out var attached);
                        expired.Add((g, key, id, attached));
                    }
                }
            }
            foreach (var (g, key, lease, attached) in expired)
                _ = ExpireAsync(g, key, lease, attached);
        }
    }

    private async Task ExpireAsync(int g, string key, long lease, List<(byte Kind, string Key)> attached)
    {
        try
        {
            _expiryClient ??= await ChainClient.ConnectAsync(new ChainClientOptions { Controller = _options.Controller, Token = _options.Token, Tls = _options.Tls }, _stop.Token).ConfigureAwait(false);
            foreach (var (kind, target) in attached)
            {
                if (kind == (byte)'L')
                    await _expiryClient.ReleaseLockEntryAsync(target, lease, _stop.Token).ConfigureAwait(false);
                else
                    await _expiryClient.DeleteAsync(target, _stop.Token).ConfigureAwait(false);
            }
            lock (_gate)
            {
                if (_config?.Head(g) == Me && _groups.TryGetValue(g, out var state) && state.LeaseDeadlines.Remove(key))
                {
                    WriteAtHead(g, state, key, null, null, 0, 0);
                    Release();
                }
            }
        }
        catch (Exception e) when (e is ChainException or IOException)
        {
            // A failover in the middle: try again shortly while this server is still the lease's head.
            try
            {
                await Task.Delay(100, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            bool stillMine;
            lock (_gate)
                stillMine = _config?.Head(g) == Me && _groups.TryGetValue(g, out var state) && state.LeaseDeadlines.ContainsKey(key);
            if (stillMine)
                await ExpireAsync(g, key, lease, attached).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
