using System.Buffers.Binary;
using System.Text;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Server;

/// <summary>
/// A group's last committed changes, kept so a watch can resume without a gap: a bounded ring of records in one
/// growable byte array, with no object per change. Each record is encoded as the replication frames encode one
/// (<c>u8 kind, i64 version, u16 key length, UTF-8 key, u32 value length, value</c>), so a
/// <see cref="OpCode.SnapshotHistory"/> frame is built by copying byte ranges. The oldest records are dropped
/// while more than <c>maxRecords</c> are kept or they take more than <c>maxBytes</c>; the newest record is always
/// kept, even when it alone is larger.
/// </summary>
/// <remarks>
/// The previous form, a queue of (key string, value array) pairs, kept up to 4096 × 2 objects per group alive
/// long enough to be promoted, and they then died in gen2: the servers paid 100–350 ms of cumulative GC pauses
/// under the failover benchmark (docs/chain.md, "What the worst kills wait for now"). Here the bytes live in one
/// array per group, which the GC does not scan (it holds no references), and appending allocates nothing once
/// the array and the offset ring have grown to their working size.
/// <para>
/// Layout: a ring of variable-length records in <c>_buffer</c>, oldest to newest, each record contiguous;
/// <c>_starts</c> is a ring of each record's start, a record's length is read from its own header. A record that
/// does not fit between the newest record and the end of the array goes to the front when the oldest record
/// starts far enough in, leaving the end unused until the oldest records there are dropped. Otherwise the array
/// grows by half (the live records are copied to the front of the new one). No record is ever moved in steady
/// state, and the array never grows past <c>maxBytes</c> plus the largest record appended: from there the free
/// space always holds the next record in one piece (a record larger than <c>maxBytes</c> alone sets the size).
/// </para>
/// Not thread-safe: the server calls it under its lock.
/// </remarks>
internal sealed class WatchHistory
{
    /// <summary>Bytes of a record besides its key and value: kind (1), version (8), key length (2), value length (4).</summary>
    public const int RecordOverhead = 15;

    private const int MinBufferBytes = 4096;
    private const int MinRingSlots = 64;

    private readonly int _maxRecords;
    private readonly int _maxBytes;
    private byte[] _buffer = [];
    private int[] _starts = [];
    private int _first; // ring index of the oldest record in _starts
    private int _end; // where the newest record ends in _buffer (0 when empty)
    private int _largest; // the largest record appended

    /// <param name="maxRecords">Records kept at most (≥ 1).</param>
    /// <param name="maxBytes">Encoded bytes kept at most (≥ 1); the newest record is kept even if larger.</param>
    public WatchHistory(int maxRecords, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRecords, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _maxRecords = maxRecords;
        _maxBytes = maxBytes;
    }

    /// <summary>Records kept.</summary>
    public int Count { get; private set; }

    /// <summary>Encoded bytes of the records kept.</summary>
    public int RetainedBytes { get; private set; }

    /// <summary>Bytes held by the backing array (what the history costs in memory, besides the offset ring).</summary>
    public int CapacityBytes => _buffer.Length;

    /// <summary>Appends a change: <paramref name="value"/> null is a tombstone (a deletion).</summary>
    public void Append(string key, long seq, byte[]? value) =>
        Append(value is null ? ServerLog.KindTombstone : ServerLog.KindValue, seq, key, value);

    /// <summary>Appends a change of kind <see cref="ServerLog.KindValue"/> or <see cref="ServerLog.KindTombstone"/>
    /// (whose value is ignored), dropping the oldest records as the bounds require.</summary>
    public void Append(byte kind, long seq, string key, ReadOnlySpan<byte> value)
    {
        if (kind is not (ServerLog.KindValue or ServerLog.KindTombstone))
            throw new ArgumentException($"Record kind {kind} is neither a value ({ServerLog.KindValue}) nor a tombstone ({ServerLog.KindTombstone}).", nameof(kind));
        if (kind == ServerLog.KindTombstone)
            value = default;
        var keyBytes = Encoding.UTF8.GetByteCount(key);
        if (keyBytes > ChainLimits.MaxKeyBytes)
            throw new ArgumentException($"Key is {keyBytes} UTF-8 bytes; the limit is {ChainLimits.MaxKeyBytes}. Use a shorter key.", nameof(key));
        if (value.Length > ChainLimits.MaxValueBytes)
            throw new ArgumentException($"Value is {value.Length} bytes; the limit is {ChainLimits.MaxValueBytes}.", nameof(value));
        var size = RecordOverhead + keyBytes + value.Length;
        _largest = Math.Max(_largest, size);
        while (Count > 0 && (Count >= _maxRecords || RetainedBytes + size > _maxBytes))
            DropOldest();
        var at = Place(size);
        var record = _buffer.AsSpan(at, size);
        record[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(record[1..], seq);
        BinaryPrimitives.WriteUInt16LittleEndian(record[9..], (ushort)keyBytes);
        Encoding.UTF8.GetBytes(key, record.Slice(11, keyBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(record[(11 + keyBytes)..], (uint)value.Length);
        value.CopyTo(record[(15 + keyBytes)..]);
        if (Count == _starts.Length)
            GrowRing();
        _starts[(_first + Count) % _starts.Length] = at;
        Count++;
        _end = at + size;
        RetainedBytes += size;
    }

    /// <summary>Forgets every record; the arrays are kept for the records to come.</summary>
    public void Clear()
    {
        Count = 0;
        _first = 0;
        _end = 0;
        RetainedBytes = 0;
    }

    /// <summary>The encoded record <paramref name="index"/> (0 = the oldest kept), valid until the next change.</summary>
    public ReadOnlySpan<byte> Record(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var start = _starts[(_first + index) % _starts.Length];
        return _buffer.AsSpan(start, LengthAt(start));
    }

    /// <summary>Decodes record <paramref name="index"/> (allocates its key and value).</summary>
    public (string Key, Entry Entry) Decode(int index)
    {
        var reader = new WireReader(Record(index));
        var (_, key, entry) = ReadRecord(ref reader);
        return (key, entry);
    }

    /// <summary>Reads one record in the encoding this history and the replication frames share; a tombstone's
    /// entry has no value. A kind other than value or tombstone, or a version ≤ 0, is malformed.</summary>
    public static (byte Kind, string Key, Entry Entry) ReadRecord(ref WireReader reader)
    {
        var kind = reader.U8();
        var seq = reader.I64();
        var key = reader.Key();
        var value = reader.Bytes();
        if (kind is not (ServerLog.KindValue or ServerLog.KindTombstone) || seq <= 0)
            throw new ProtocolException(ErrorCode.Malformed, $"Replicated record with kind {kind} and sequence {seq} is invalid.");
        return (kind, key, new Entry(seq, kind == ServerLog.KindValue ? value : null));
    }

    /// <summary>The kept versions of every key that <paramref name="matches"/> accepts, each key's oldest first
    /// (allocates: for resuming a watch, which is rare).</summary>
    public ILookup<string, Entry> Versions(Func<string, bool> matches)
    {
        var found = new List<(string Key, Entry Entry)>();
        for (var i = 0; i < Count; i++)
        {
            var record = Record(i);
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[9..]);
            if (matches(Encoding.UTF8.GetString(record.Slice(11, keyLength))))
                found.Add(Decode(i));
        }
        return found.ToLookup(h => h.Key, h => h.Entry, StringComparer.Ordinal);
    }

    /// <summary>The length of the record starting at <paramref name="start"/>, from its key and value lengths.</summary>
    private int LengthAt(int start)
    {
        var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.AsSpan(start + 9));
        return RecordOverhead + keyLength + (int)BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(start + 11 + keyLength));
    }

    private void DropOldest()
    {
        RetainedBytes -= LengthAt(_starts[_first]);
        _first = (_first + 1) % _starts.Length;
        Count--;
        if (Count == 0)
            Clear(); // nothing live: the next record starts at the front
    }

    /// <summary>Where a record of <paramref name="size"/> bytes goes: after the newest record, else at the front
    /// of the array if the oldest starts far enough in, else after the live records moved to a larger array.</summary>
    private int Place(int size)
    {
        if (Count == 0)
        {
            if (size > _buffer.Length)
                Grow(size);
            return 0;
        }
        var oldest = _starts[_first];
        if (_end > oldest)
        {
            // In order from oldest to the newest: room after the newest, or before the oldest.
            if (_end + size <= _buffer.Length)
                return _end;
            if (size <= oldest)
                return 0;
        }
        else if (_end + size <= oldest)
        {
            return _end; // wrapped: the room is between the newest (at the front) and the oldest
        }
        Grow(size);
        return _end;
    }

    /// <summary>Copies the live records, oldest first, to the front of an array half as large again (at least large
    /// enough for them and <paramref name="size"/> more bytes, at most <c>maxBytes</c> plus the largest record).</summary>
    private void Grow(int size)
    {
        var grown = Math.Min(Math.Max(_buffer.Length + _buffer.Length / 2, MinBufferBytes), (long)_maxBytes + _largest);
        var bigger = new byte[Math.Max((int)grown, RetainedBytes + size)];
        var starts = new int[_starts.Length];
        var at = 0;
        for (var i = 0; i < Count; i++)
        {
            var start = _starts[(_first + i) % _starts.Length];
            var length = LengthAt(start);
            _buffer.AsSpan(start, length).CopyTo(bigger.AsSpan(at));
            starts[i] = at;
            at += length;
        }
        _buffer = bigger;
        _starts = starts;
        _first = 0;
        _end = at;
    }

    private void GrowRing()
    {
        var bigger = new int[Math.Min(Math.Max(_starts.Length * 2, MinRingSlots), _maxRecords)];
        for (var i = 0; i < Count; i++)
            bigger[i] = _starts[(_first + i) % _starts.Length];
        _starts = bigger;
        _first = 0;
    }
}
