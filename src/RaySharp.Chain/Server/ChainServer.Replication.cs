using System.Diagnostics;
using System.Net;
using RaySharp.Chain.Diagnostics;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Server;

/// <summary>A stored version of a key: its per-key sequence number and value (null: deleted, a tombstone).</summary>
internal readonly record struct Entry(long Seq, byte[]? Value);

/// <summary>A write forwarded downstream and not yet acknowledged by the tail.</summary>
internal readonly record struct Pending(long Seq, byte[]? Value);

/// <summary>A client waiting at the head for <see cref="Seq"/> of its key to commit.</summary>
internal readonly record struct Waiter(long Seq, FramedConnection Connection, ulong RequestId, long ReplySeq, byte Flag);

/// <summary>This server's state for one virtual group.</summary>
internal sealed class GroupState(int id)
{
    public int Id { get; } = id;

    public Dictionary<string, Entry> Data { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<Pending>> Unacked { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<Waiter>> Waiters { get; } = new(StringComparer.Ordinal);

    /// <summary>False from joining until the predecessor's Activate marker: a new tail serves no reads before it.</summary>
    public bool Active { get; set; } = true;

    /// <summary>As a joiner: the snapshot has fully arrived.</summary>
    public bool SyncComplete { get; set; }

    /// <summary>As a joiner: the epoch at which the tail sent the snapshot that arrived.</summary>
    public long SnapshotEpoch { get; set; }

    /// <summary>Log position after each key's latest record: what an acknowledgement of it depends on.</summary>
    public Dictionary<string, long> RecordEnd { get; } = new(StringComparer.Ordinal);

    /// <summary>The group's last committed changes (a bounded ring in one buffer), so a watch can resume without a gap.</summary>
    public WatchHistory History { get; } = new(Coordination.HistoryDepth, Coordination.HistoryBytes);

    /// <summary>As a tail: watches registered on this group.</summary>
    public List<Watcher> Watchers { get; } = [];

    /// <summary>As a head: lease key → expiry (Stopwatch ticks).</summary>
    public Dictionary<string, long> LeaseDeadlines { get; } = new(StringComparer.Ordinal);

    /// <summary>As a tail: the joiner being fed every write, or -1.</summary>
    public int FeedJoiner { get; set; } = -1;

    /// <summary>Tracing only (<see cref="ChainTrace"/>): when this server became head or got a new successor
    /// for this group, until the next write it commits as head; 0 otherwise.</summary>
    public long TraceReconfiguredAt { get; set; }
}

public sealed partial class ChainServer
{
    private int Me => _options.ServerId;

    // ---- configuration changes ----

    private void Adopt(ChainConfig config, string source)
    {
        if (_config is not null && config.Epoch <= _config.Epoch)
            return;
        var adoptStart = Stopwatch.GetTimestamp();
        var old = _config;
        _config = config;
        foreach (var (id, endPoint) in config.Servers)
        {
            if (id != Me && _links.TryGetValue(id, out var link))
                link.EndPoint = endPoint;
        }
        for (var g = 0; g < config.GroupCount; g++)
            AdoptGroup(old, config, g);
        _pushStateOnFirstConfig = false;
        ResumeDeferred();
        if (ChainTrace.Enabled)
        {
            var heads = 0;
            var successors = 0;
            var tails = 0;
            for (var g = 0; g < config.GroupCount && old is not null; g++)
            {
                if (config.IndexOf(g, Me) < 0 || old.IndexOf(g, Me) < 0)
                    continue;
                heads += config.Head(g) == Me && old.Head(g) != Me ? 1 : 0;
                successors += config.Successor(g, Me) >= 0 && config.Successor(g, Me) != old.Successor(g, Me) ? 1 : 0;
                tails += config.Tail(g) == Me && old.Tail(g) != Me ? 1 : 0;
            }
            ChainTrace.Write($"adopt epoch={config.Epoch} from={source} new_head_of={heads} new_successor_in={successors} new_tail_of={tails} took_ms={Stopwatch.GetElapsedTime(adoptStart).TotalMilliseconds:0.00} {ChainTrace.RuntimeCounters()}");
        }
    }

    private void AdoptGroup(ChainConfig? old, ChainConfig config, int g)
    {
        var member = config.IndexOf(g, Me) >= 0;
        var joiner = config.Joining[g] == Me;
        var wasMember = old is not null && g < old.GroupCount && old.IndexOf(g, Me) >= 0;
        var wasJoiner = old is not null && g < old.GroupCount && old.Joining[g] == Me;
        if (!member && !joiner)
        {
            if (_groups.Remove(g, out var gone))
            {
                EndWatches(gone, "left the group");
                FailWaiters(gone, "left the group's chain");
                _log?.Append(g, ServerLog.KindReset, 0, "", null);
            }
            return;
        }
        var state = Group(g);
        if (joiner)
        {
            if (!wasJoiner)
            {
                // Pre-synchronisation starts from nothing: the tail's snapshot replaces whatever was here.
                ResetGroup(state);
                state.Active = false;
                state.SyncComplete = false;
            }
            return;
        }
        if (!wasMember && !wasJoiner && old is not null)
            state.Active = true; // assigned at bootstrap of an empty group
        var successor = config.Successor(g, Me);
        var oldSuccessor = wasMember ? old!.Successor(g, Me) : -1;
        if (successor < 0)
        {
            // Tail now: everything forwarded but unacknowledged is committed here.
            foreach (var (key, pending) in state.Unacked.ToList())
            {
                if (pending.Count > 0)
                    Committed(g, state, key, pending[^1].Seq);
            }
            state.Unacked.Clear();
        }
        else
        {
            if (successor != oldSuccessor || _pushStateOnFirstConfig)
            {
                if (ChainTrace.Enabled)
                    state.TraceReconfiguredAt = Stopwatch.GetTimestamp();
                // A new successor (after a failover, a switch-over or a departure), or a restart that lost
                // track of what was in flight: offer the group's whole state, tracked until acknowledged,
                // then the Activate marker. The successor drops what it already has. A joiner's feed was
                // best effort, so only this makes it complete before it serves a read.
                foreach (var (key, entry) in state.Data)
                {
                    if (!state.Unacked.ContainsKey(key))
                        state.Unacked[key] = [new Pending(entry.Seq, entry.Value)];
                }
                ResendTo(g, state, successor);
            }
        }
        if (config.Head(g) != Me)
            FailWaiters(state, "is no longer the head");
        else if (old is null || g >= old.GroupCount || old.Head(g) != Me)
        {
            StartLeaseTimers(g, state);
            if (ChainTrace.Enabled)
                state.TraceReconfiguredAt = Stopwatch.GetTimestamp();
        }
        if (config.Tail(g) != Me)
            EndWatches(state, "is no longer the tail");
        var feed = config.Tail(g) == Me ? config.Joining[g] : -1;
        // A configuration that skips epochs (learnt from a registration reply, a heartbeat or a neighbour)
        // may hide that the join was cancelled and started again, and the feed stopped in between: the
        // joiner then needs a fresh snapshot (the controller refuses a SyncDone from before the new join).
        var skipped = old is null || config.Epoch > old.Epoch + 1;
        if (feed >= 0 && (state.FeedJoiner != feed || skipped || old!.Tail(g) != Me))
            SendSnapshot(g, state, feed);
        state.FeedJoiner = feed;
    }

    private void ResetGroup(GroupState state)
    {
        FailWaiters(state, "is re-synchronising the group");
        EndWatches(state, "is re-synchronising the group");
        state.Data.Clear();
        state.History.Clear();
        state.Unacked.Clear();
        _log?.Append(state.Id, ServerLog.KindReset, 0, "", null);
    }

    private void ResumeDeferred()
    {
        foreach (var (connection, queue) in _deferred.ToList())
        {
            while (queue.Count > 0 && PeekEpoch(queue.Peek()) <= _config!.Epoch)
            {
                var frame = queue.Dequeue();
                try
                {
                    HandleReplication(connection, (int)connection.Tag!, frame);
                }
                catch (ProtocolException e)
                {
                    connection.SendError(frame.RequestId, e.Code, e.Message);
                }
            }
            if (queue.Count == 0)
                _deferred.Remove(connection);
        }
    }

    private void FailWaiters(GroupState state, string why)
    {
        foreach (var waiters in state.Waiters.Values)
        {
            foreach (var w in waiters)
            {
                Emit(w.Connection, new FrameBuilder(OpCode.Error, w.RequestId).U8((byte)ErrorCode.Unavailable)
                    .Text($"Server {Me} {why} before the write committed; its outcome is unknown.").Build());
            }
        }
        state.Waiters.Clear();
    }

    // ---- the write path ----

    private void HandleWrite(FramedConnection connection, Frame frame)
    {
        var reader = frame.Reader();
        var key = reader.Key();
        Coordination.CheckClientKey(key);
        long expected = 0;
        byte[]? value = null;
        if (frame.Op == OpCode.Cas)
            expected = reader.I64();
        if (frame.Op is OpCode.Put or OpCode.Cas)
            value = reader.Bytes();
        reader.End();
        if (!TryHeadOf(key, out var g, out var state, out var why))
        {
            if (ChainTrace.Enabled)
                ChainTrace.Write($"not-head g={g} epoch={_config?.Epoch ?? -1}");
            connection.SendError(frame.RequestId, ErrorCode.NotHead, why);
            SuspectStale();
            return;
        }
        var current = state.Data.GetValueOrDefault(key);
        if (frame.Op == OpCode.Cas && current.Seq != expected)
        {
            // A failed CAS reports the latest version, so it waits until that version is committed.
            if (state.Unacked.TryGetValue(key, out var pending) && pending.Count > 0)
                AddWaiter(state, key, new Waiter(pending[^1].Seq, connection, frame.RequestId, current.Seq, 0));
            else
                Emit(connection, OkFrame(frame.RequestId, current.Seq, 0, null));
            return;
        }
        var seq = current.Seq + 1;
        var flag = frame.Op == OpCode.Delete ? (byte)(current.Value is null ? 0 : 1) : (byte)1;
        AddWaiter(state, key, new Waiter(seq, connection, frame.RequestId, seq, flag));
        Apply(g, state, key, seq, value);
    }

    /// <summary>Writes a value computed at the head (coordination operations) and replies when it commits.</summary>
    private void WriteAtHead(int g, GroupState state, string key, byte[]? value, FramedConnection? connection, ulong requestId, byte flag)
    {
        var seq = state.Data.GetValueOrDefault(key).Seq + 1;
        if (connection is not null)
            AddWaiter(state, key, new Waiter(seq, connection, requestId, seq, flag));
        Apply(g, state, key, seq, value);
    }

    private bool TryHeadOf(string key, out int group, out GroupState state, out string why)
    {
        state = null!;
        group = -1;
        if (_config is null)
        {
            why = $"Server {Me} has no configuration yet; retry shortly.";
            return false;
        }
        group = Placement.GroupOf(key, _config.GroupCount);
        if (_config.Head(group) != Me || !_groups.TryGetValue(group, out state!))
        {
            why = $"Server {Me} is not the head of group {group} at epoch {_config.Epoch}; refresh the configuration.";
            return false;
        }
        why = "";
        return true;
    }

    private static void AddWaiter(GroupState state, string key, Waiter waiter)
    {
        if (!state.Waiters.TryGetValue(key, out var list))
            state.Waiters[key] = list = [];
        list.Add(waiter);
    }

    private static OutFrame OkFrame(ulong requestId, long seq, byte flag, byte[]? value) =>
        new FrameBuilder(OpCode.Ok, requestId, 16 + (value?.Length ?? 0)).I64(seq).U8(flag).Bytes(value ?? []).Build();

    /// <summary>Applies a new version as a chain member: log, forward (or commit as tail), feed a joiner.</summary>
    private void Apply(int g, GroupState state, string key, long seq, byte[]? value)
    {
        state.Data[key] = new Entry(seq, value);
        _log?.Append(g, value is null ? ServerLog.KindTombstone : ServerLog.KindValue, seq, key, value);
        state.RecordEnd[key] = LogEnd;
        state.History.Append(key, seq, value);
        if (state.FeedJoiner >= 0)
            SendTo(state.FeedJoiner, ReplicateFrame(OpCode.Replicate, g, key, seq, value));
        var successor = _config!.Successor(g, Me);
        if (successor < 0)
        {
            NotifyWatchers(g, state, key, new Entry(seq, value));
            Committed(g, state, key, seq);
            return;
        }
        if (!state.Unacked.TryGetValue(key, out var pending))
            state.Unacked[key] = pending = [];
        pending.Add(new Pending(seq, value));
        SendTo(successor, ReplicateFrame(OpCode.Replicate, g, key, seq, value));
    }

    /// <summary>Everything of <paramref name="key"/> up to <paramref name="seq"/> has reached the tail.</summary>
    private void Committed(int g, GroupState state, string key, long seq)
    {
        if (state.Unacked.TryGetValue(key, out var pending))
        {
            pending.RemoveAll(p => p.Seq <= seq);
            if (pending.Count == 0)
                state.Unacked.Remove(key);
        }
        if (_config!.Head(g) == Me)
        {
            if (state.Waiters.TryGetValue(key, out var waiters))
            {
                var done = 0;
                while (done < waiters.Count && waiters[done].Seq <= seq)
                {
                    var w = waiters[done++];
                    var entry = state.Data.GetValueOrDefault(key);
                    var value = w.Flag == 2 ? entry.Value : null;
                    Emit(state.RecordEnd.GetValueOrDefault(key), w.Connection, OkFrame(w.RequestId, w.ReplySeq, w.Flag, value));
                }
                waiters.RemoveRange(0, done);
                if (waiters.Count == 0)
                    state.Waiters.Remove(key);
                if (done > 0 && state.TraceReconfiguredAt != 0)
                {
                    ChainTrace.Write($"first-commit g={g} epoch={_config.Epoch} since_reconfigured_ms={Stopwatch.GetElapsedTime(state.TraceReconfiguredAt).TotalMilliseconds:0.00}");
                    state.TraceReconfiguredAt = 0;
                }
            }
            return;
        }
        var predecessor = _config.Predecessor(g, Me);
        if (predecessor >= 0 && _upstream.TryGetValue(predecessor, out var up))
            _acks.Add(new PendingAck(state.RecordEnd.GetValueOrDefault(key), up, g, seq, key));
    }

    /// <summary>
    /// Called under the lock: sends acknowledgements that are ready, in order, as few frames as possible —
    /// one <see cref="OpCode.Ack"/> frame per upstream connection carries every (group, sequence, key) of the
    /// batch, so a chain pays one frame per batch on the way back instead of one per write.
    /// </summary>
    private void SendAcks(List<PendingAck> acks)
    {
        if (acks.Count == 0)
            return;
        foreach (var ack in acks)
        {
            if (_ackFrames.TryGetValue(ack.Up, out var builder) && builder.Length > AckFrameBytes)
            {
                ack.Up.Send(builder.Build());
                builder = null;
            }
            if (builder is null)
                _ackFrames[ack.Up] = builder = new FrameBuilder(OpCode.Ack, 0, AckFrameBytes + 1024).I64(_config!.Epoch);
            builder.U16((ushort)ack.Group).I64(ack.Seq).Key(ack.Key);
        }
        foreach (var (up, builder) in _ackFrames)
            up.Send(builder.Build());
        _ackFrames.Clear();
    }

    private OutFrame ReplicateFrame(OpCode op, int g, string key, long seq, byte[]? value) =>
        new FrameBuilder(op, 0, 40 + key.Length + (value?.Length ?? 0)).I64(_config!.Epoch).U16((ushort)g)
            .U8(value is null ? ServerLog.KindTombstone : ServerLog.KindValue).I64(seq).Key(key).Bytes(value ?? []).Build();

    private void ResendTo(int g, GroupState state, int successor)
    {
        foreach (var (key, pending) in state.Unacked)
        {
            foreach (var p in pending)
                SendTo(successor, ReplicateFrame(OpCode.Replicate, g, key, p.Seq, p.Value));
        }
        SendTo(successor, new FrameBuilder(OpCode.Activate, 0).I64(_config!.Epoch).U16((ushort)g).Build());
    }

    /// <summary>A SnapshotHistory frame holds records up to this size (or one record, when larger).</summary>
    private const int HistoryFrameBytes = 32 * 1024;

    /// <summary>
    /// Pre-synchronises a joiner: SnapshotBegin, the group's most recent changes (the last
    /// <see cref="Coordination.SnapshotHistoryDepth"/> of <see cref="GroupState.History"/>, oldest first, many per
    /// frame, copied as they are stored, so a watch resuming at the joiner once it is tail gets the versions it
    /// missed), each key's latest version, SnapshotEnd. Every new write follows on the feed.
    /// </summary>
    private void SendSnapshot(int g, GroupState state, int joiner)
    {
        SendTo(joiner, new FrameBuilder(OpCode.SnapshotBegin, 0).I64(_config!.Epoch).U16((ushort)g).Build());
        FrameBuilder? history = null;
        for (var i = Math.Max(0, state.History.Count - Coordination.SnapshotHistoryDepth); i < state.History.Count; i++)
        {
            var record = state.History.Record(i);
            if (history is not null && history.Length + record.Length > HistoryFrameBytes)
            {
                SendTo(joiner, history.Build());
                history = null;
            }
            history ??= new FrameBuilder(OpCode.SnapshotHistory, 0, HistoryFrameBytes).I64(_config.Epoch).U16((ushort)g);
            history.Raw(record);
        }
        if (history is not null)
            SendTo(joiner, history.Build());
        foreach (var (key, entry) in state.Data)
            SendTo(joiner, ReplicateFrame(OpCode.SnapshotEntry, g, key, entry.Seq, entry.Value));
        SendTo(joiner, new FrameBuilder(OpCode.SnapshotEnd, 0).I64(_config.Epoch).U16((ushort)g).Build());
    }

    // ---- frames from the predecessor (or, for a joiner, from the tail feeding it) ----

    private void HandleReplication(FramedConnection connection, int sender, Frame frame)
    {
        var reader = frame.Reader();
        var senderEpoch = reader.I64();
        var g = reader.U16();
        var config = _config!;
        if (g >= config.GroupCount)
            throw new ProtocolException(ErrorCode.Malformed, $"Group {g} does not exist (there are {config.GroupCount}).");
        var asJoiner = config.Joining[g] == Me && config.Tail(g) == sender;
        var asMember = config.Predecessor(g, Me) == sender;
        if (frame.Op == OpCode.SnapshotHistory)
        {
            // Only for resuming watches: neither data nor a write, so not logged (a restart rebuilds no history)
            // and nothing applied. It belongs between SnapshotBegin and SnapshotEnd only, where it precedes every
            // version the feed brings, keeping each key's history ascending. Every entry is checked before any is kept.
            var entries = new List<(string Key, Entry Entry)>();
            do
            {
                var (_, key, entry) = WatchHistory.ReadRecord(ref reader);
                entries.Add((key, entry));
            }
            while (reader.Remaining > 0);
            if (asJoiner && _groups.TryGetValue(g, out var joining) && !joining.SyncComplete)
            {
                foreach (var (key, entry) in entries)
                    joining.History.Append(key, entry.Seq, entry.Value);
            }
            return;
        }
        if (frame.Op is OpCode.Replicate or OpCode.SnapshotEntry)
        {
            var (kind, key, (seq, stored)) = WatchHistory.ReadRecord(ref reader);
            reader.End();
            if ((!asJoiner && !asMember) || !_groups.TryGetValue(g, out var state))
                return; // from a server that is not (or no longer) upstream of us: stale, dropped
            var current = state.Data.GetValueOrDefault(key);
            if (asJoiner)
            {
                if (seq > current.Seq || frame.Op == OpCode.SnapshotEntry)
                {
                    state.Data[key] = new Entry(seq, stored);
                    // A snapshot entry is no change: SnapshotHistory brought its version if the tail still kept it
                    // (recording it again would repeat it to a resuming watch), and the tail did not keep it otherwise.
                    if (frame.Op == OpCode.Replicate)
                        state.History.Append(key, seq, stored);
                    _log?.Append(g, kind, seq, key, stored);
                    state.RecordEnd[key] = LogEnd;
                }
                return;
            }
            if (seq <= current.Seq)
            {
                // A resend after a failover: already applied. Acknowledge unless our own forward is still open.
                if (!state.Unacked.TryGetValue(key, out var pending) || pending.Count == 0 || pending[^1].Seq < seq)
                    Committed(g, state, key, Math.Min(seq, current.Seq));
                return;
            }
            Apply(g, state, key, seq, stored);
            return;
        }
        reader.End();
        if (!_groups.TryGetValue(g, out var group))
            return;
        switch (frame.Op)
        {
            case OpCode.SnapshotBegin when asJoiner:
                ResetGroup(group);
                group.SyncComplete = false;
                break;
            case OpCode.SnapshotEnd when asJoiner:
                group.SyncComplete = true;
                group.SnapshotEpoch = senderEpoch;
                SendSyncDone(g, senderEpoch);
                break;
            case OpCode.Activate when asMember:
                group.Active = true;
                if (ChainTrace.Enabled)
                    ChainTrace.Write($"activate g={g} from={sender} epoch={senderEpoch}");
                break;
        }
    }

    /// <summary>Tells the controller the snapshot sent at <paramref name="snapshotEpoch"/> has fully arrived.</summary>
    private void SendSyncDone(int g, long snapshotEpoch)
    {
        var controller = _controller;
        if (controller is not null)
            Emit(controller, new FrameBuilder(OpCode.SyncDone, 0).I32(Me).I64(snapshotEpoch).U16((ushort)g).Build());
    }

    /// <summary>Frames arriving on our link to a downstream server: acknowledgements.</summary>
    private void HandleDownstreamFrame(int peer, FramedConnection connection, Frame frame)
    {
        if (frame.Op == OpCode.GetConfig)
        {
            // A successor that saw our newer epoch asks for the configuration (see LearnEpoch).
            frame.Reader().End();
            if (_config is not null)
                connection.Send(_config.WriteTo(new FrameBuilder(OpCode.ConfigReply, frame.RequestId, 256)).Build());
            return;
        }
        if (frame.Op != OpCode.Ack)
            return;
        var reader = frame.Reader();
        var epoch = reader.I64();
        LearnEpoch(connection, epoch);
        // Parse every entry before acting on any: a malformed frame changes nothing.
        _ackScratch.Clear();
        do
        {
            var g = reader.U16();
            var seq = reader.I64();
            _ackScratch.Add((g, seq, reader.Key()));
        }
        while (reader.Remaining > 0);
        if (_config is null)
            return;
        foreach (var (g, seq, key) in _ackScratch)
        {
            if (g < _config.GroupCount && _config.Successor(g, Me) == peer && _groups.TryGetValue(g, out var state))
                Committed(g, state, key, seq);
        }
    }

    // ---- reads ----

    private void HandleGet(FramedConnection connection, Frame frame)
    {
        var reader = frame.Reader();
        var key = reader.Key();
        Coordination.CheckClientKey(key);
        var flags = reader.U8();
        reader.End();
        if (_config is null)
        {
            connection.SendError(frame.RequestId, ErrorCode.NotTail, $"Server {Me} has no configuration yet; retry shortly.");
            return;
        }
        var g = Placement.GroupOf(key, _config.GroupCount);
        var unsafeAnywhere = (flags & 1) != 0 && _options.UnsafeReadsAtAnyReplica && _config.IndexOf(g, Me) >= 0;
        if (!_groups.TryGetValue(g, out var state) || (!unsafeAnywhere && (_config.Tail(g) != Me || !state.Active)))
        {
            connection.SendError(frame.RequestId, ErrorCode.NotTail, $"Server {Me} is not the serving tail of group {g} at epoch {_config.Epoch}; refresh the configuration.");
            SuspectStale();
            return;
        }
        if (!unsafeAnywhere && !HoldsReadLease)
        {
            connection.SendError(frame.RequestId, ErrorCode.Unavailable, $"Server {Me} holds no read lease from the controller; retry shortly.");
            return;
        }
        var entry = state.Data.GetValueOrDefault(key);
        // The reply waits only until this key's latest record is on disk.
        Emit(state.RecordEnd.GetValueOrDefault(key), connection, OkFrame(frame.RequestId, entry.Seq, entry.Value is null ? (byte)0 : (byte)1, entry.Value));
    }

    // ---- links to downstream servers ----

    private void SendTo(int peer, OutFrame frame)
    {
        if (!_links.TryGetValue(peer, out var link))
        {
            if (_config is null || !_config.Servers.TryGetValue(peer, out var endPoint))
            {
                frame.Return();
                return;
            }
            _links[peer] = link = new PeerLink(this, peer, endPoint);
        }
        // Forwarding does not wait for our fsync (replicas fsync in parallel); acknowledgements and replies do.
        _forward.Add(() => link.Send(frame));
    }

    private void OnLinkUp(int peer)
    {
        if (_config is null)
            return;
        for (var g = 0; g < _config.GroupCount; g++)
        {
            if (!_groups.TryGetValue(g, out var state))
                continue;
            if (_config.Successor(g, Me) == peer)
                ResendTo(g, state, peer);
            if (_config.Tail(g) == Me && _config.Joining[g] == peer)
                SendSnapshot(g, state, peer);
        }
    }

    /// <summary>Our outgoing connection to one downstream server; reconnects and triggers resends.</summary>
    private sealed class PeerLink(ChainServer server, int peer, IPEndPoint endPoint)
    {
        private bool _connecting;

        public IPEndPoint EndPoint { get; set; } = endPoint;

        public FramedConnection? Connection { get; private set; }

        /// <summary>Called under the server lock.</summary>
        public void Send(OutFrame frame)
        {
            var connection = Connection;
            if (connection is null || connection.Closed.IsCompleted)
            {
                frame.Return();
                EnsureConnecting();
                return;
            }
            connection.Send(frame);
        }

        private void EnsureConnecting()
        {
            if (_connecting || server._stop.IsCancellationRequested)
                return;
            _connecting = true;
            _ = Task.Run(ConnectLoopAsync);
        }

        private async Task ConnectLoopAsync()
        {
            var backoff = TimeSpan.FromMilliseconds(2);
            while (!server._stop.IsCancellationRequested)
            {
                try
                {
                    var connection = await FramedConnection.ConnectAsync(EndPoint, TimeSpan.FromSeconds(1), server._stop.Token, server._security, server._identity).ConfigureAwait(false);
                    connection.Start((_, frame) =>
                    {
                        lock (server._gate)
                        {
                            try
                            {
                                server.HandleDownstreamFrame(peer, connection, frame);
                            }
                            catch (ProtocolException)
                            {
                                connection.Close();
                            }
                        }
                        return ValueTask.CompletedTask;
                    }, server.ReleaseAfterBatch, server.WriteInline);
                    connection.Send(new FrameBuilder(OpCode.Hello, 0).I32(server.Me).Build());
                    lock (server._gate)
                    {
                        if (ChainTrace.Enabled)
                            ChainTrace.Write($"link-up peer={peer}");
                        Connection = connection;
                        _connecting = false;
                        server.OnLinkUp(peer);
                        server.Release();
                    }
                    _ = connection.Closed.ContinueWith(_ =>
                    {
                        lock (server._gate)
                        {
                            if (Connection != connection)
                                return;
                            if (ChainTrace.Enabled)
                                ChainTrace.Write($"link-down peer={peer}");
                            Connection = null;
                            // The successor went away: it may have been cut out by a configuration we missed.
                            server.SuspectStale();
                            if (server._config is not null && server.NeedsLink(peer))
                                EnsureConnecting();
                        }
                    }, TaskScheduler.Default);
                    return;
                }
                catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
                {
                    lock (server._gate)
                    {
                        if (server._config is null || !server.NeedsLink(peer))
                        {
                            _connecting = false;
                            return;
                        }
                        server.SuspectStale();
                    }
                    try
                    {
                        await Task.Delay(backoff, server._stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 100));
                }
            }
        }
    }

    private bool NeedsLink(int peer)
    {
        for (var g = 0; g < _config!.GroupCount; g++)
        {
            if (_config.Successor(g, Me) == peer || (_config.Tail(g) == Me && _config.Joining[g] == peer))
                return true;
        }
        return false;
    }
}
