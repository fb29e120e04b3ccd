using System.Text;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;

namespace RaySharp.Chain.Tests;

public sealed class WatchHistoryTests
{
    private static byte[] Value(int length, byte fill) => Enumerable.Repeat(fill, length).ToArray();

    private static List<(string Key, Entry Entry)> All(WatchHistory history) =>
        Enumerable.Range(0, history.Count).Select(history.Decode).ToList();

    private static void AssertSame(List<(string Key, Entry Entry)> expected, WatchHistory history, string when)
    {
        var actual = All(history);
        Assert.True(expected.Count == actual.Count, $"{when}: {actual.Count} records kept, expected {expected.Count}.");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Key == actual[i].Key && expected[i].Entry.Seq == actual[i].Entry.Seq,
                $"{when}: record {i} is {actual[i].Key}@{actual[i].Entry.Seq}, expected {expected[i].Key}@{expected[i].Entry.Seq}.");
            Assert.Equal(expected[i].Entry.Value, actual[i].Entry.Value);
        }
    }

    [Fact]
    public void The_oldest_changes_are_dropped_past_the_record_bound()
    {
        var history = new WatchHistory(maxRecords: 4, maxBytes: 1 << 20);
        for (var seq = 1; seq <= 10; seq++)
            history.Append("k", seq, Value(3, (byte)seq));
        Assert.Equal(4, history.Count);
        Assert.Equal([7L, 8, 9, 10], All(history).Select(h => h.Entry.Seq));
        Assert.Equal(Value(3, 10), history.Decode(3).Entry.Value);
    }

    [Fact]
    public void The_oldest_changes_are_dropped_past_the_byte_bound()
    {
        // Each record is 15 + 1 (key) + 10 (value) = 26 bytes: three fit in 100, a fourth does not.
        var history = new WatchHistory(maxRecords: 1000, maxBytes: 100);
        for (var seq = 1; seq <= 5; seq++)
            history.Append("k", seq, Value(10, 1));
        Assert.Equal(3, history.Count);
        Assert.Equal(78, history.RetainedBytes);
        Assert.Equal([3L, 4, 5], All(history).Select(h => h.Entry.Seq));
    }

    [Fact]
    public void A_single_change_larger_than_the_byte_bound_is_kept_until_the_next()
    {
        var history = new WatchHistory(maxRecords: 1000, maxBytes: 50);
        history.Append("a", 1, Value(5, 1));
        history.Append("big", 2, Value(1000, 2));
        Assert.Equal(1, history.Count);
        Assert.Equal(("big", 2L), (history.Decode(0).Key, history.Decode(0).Entry.Seq));
        Assert.Equal(Value(1000, 2), history.Decode(0).Entry.Value);
        Assert.Equal(WatchHistory.RecordOverhead + 3 + 1000, history.RetainedBytes);

        history.Append("a", 2, Value(5, 3));
        Assert.Equal(1, history.Count);
        Assert.Equal(("a", 2L), (history.Decode(0).Key, history.Decode(0).Entry.Seq));
    }

    [Fact]
    public void Records_are_stored_as_the_replication_frames_encode_them()
    {
        var history = new WatchHistory(maxRecords: 16, maxBytes: 1 << 20);
        history.Append("ключ/1", 7, [1, 2, 3]);
        history.Append("ключ/1", 8, null);
        var expected = new FrameBuilder(OpCode.SnapshotHistory, 0)
            .U8(ServerLog.KindValue).I64(7).Key("ключ/1").Bytes([1, 2, 3])
            .U8(ServerLog.KindTombstone).I64(8).Key("ключ/1").Bytes([])
            .Build();
        try
        {
            var records = history.Record(0).ToArray().Concat(history.Record(1).ToArray()).ToArray();
            Assert.Equal(expected.Buffer.AsSpan(4 + ChainLimits.HeaderBytes, expected.Length - 4 - ChainLimits.HeaderBytes).ToArray(), records);
        }
        finally
        {
            expected.Return();
        }
        Assert.Null(history.Decode(1).Entry.Value);
    }

    [Fact]
    public void A_tombstone_keeps_no_value_bytes()
    {
        var history = new WatchHistory(maxRecords: 16, maxBytes: 1 << 20);
        history.Append(ServerLog.KindTombstone, 3, "k", [9, 9, 9]);
        Assert.Equal(WatchHistory.RecordOverhead + 1, history.RetainedBytes);
        Assert.Equal(new Entry(3, null), history.Decode(0).Entry);
    }

    [Fact]
    public void Versions_lists_the_matching_keys_changes_oldest_first()
    {
        var history = new WatchHistory(maxRecords: 16, maxBytes: 1 << 20);
        history.Append("app/a", 1, [1]);
        history.Append("other", 1, [2]);
        history.Append("app/b", 1, [3]);
        history.Append("app/a", 2, null);
        history.Append("app/a", 3, [4]);
        var versions = history.Versions(key => key.StartsWith("app/", StringComparison.Ordinal));
        Assert.Equal(["app/a", "app/b"], versions.Select(g => g.Key).Order(StringComparer.Ordinal));
        Assert.Equal([new Entry(1, [1]), new Entry(2, null), new Entry(3, [4])], versions["app/a"], EntryComparer.Instance);
        Assert.Equal([new Entry(1, [3])], versions["app/b"], EntryComparer.Instance);
        Assert.Empty(versions["other"]);
    }

    [Fact]
    public void Clear_forgets_every_change_and_the_history_fills_again()
    {
        var history = new WatchHistory(maxRecords: 8, maxBytes: 1 << 20);
        for (var seq = 1; seq <= 20; seq++)
            history.Append("k", seq, Value(seq, 1));
        history.Clear();
        Assert.Equal(0, history.Count);
        Assert.Equal(0, history.RetainedBytes);
        history.Append("k", 21, [5]);
        Assert.Equal([("k", new Entry(21, [5]))], All(history).Select(h => (h.Key, h.Entry)), KeyedEntryComparer.Instance);
    }

    [Fact]
    public void Bad_changes_are_refused_with_what_was_wrong()
    {
        var history = new WatchHistory(maxRecords: 8, maxBytes: 1 << 20);
        var kind = Assert.Throws<ArgumentException>(() => history.Append(7, 1, "k", [1]));
        Assert.Contains("kind 7", kind.Message, StringComparison.Ordinal);
        var key = Assert.Throws<ArgumentException>(() => history.Append(new string('x', ChainLimits.MaxKeyBytes + 1), 1, [1]));
        Assert.Contains("limit is 1024", key.Message, StringComparison.Ordinal);
        Assert.Equal(0, history.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new WatchHistory(0, 100));
    }

    [Theory]
    [InlineData(1, 50, 2_000)]
    [InlineData(2, 4096, 64 * 1024)]
    [InlineData(3, 7, 100_000)]
    public void Many_appends_with_wraparound_compaction_and_growth_keep_exact_order_and_content(int seed, int maxRecords, int maxBytes)
    {
        // Reference model: a plain queue with the same bounds.
        var random = new Random(seed);
        var history = new WatchHistory(maxRecords, maxBytes);
        var model = new Queue<(string Key, Entry Entry)>();
        var modelBytes = 0;
        string[] keys = ["a", "config/b", "ключ", "lock/🔒", new string('k', 300)];
        var largest = 0;
        for (var i = 1; i <= 20_000; i++)
        {
            var key = keys[random.Next(keys.Length)];
            var value = random.Next(5) == 0 ? null : Value(random.Next(4) == 0 ? random.Next(2_000, 8_000) : random.Next(0, 200), (byte)i);
            var size = WatchHistory.RecordOverhead + Encoding.UTF8.GetByteCount(key) + (value?.Length ?? 0);
            largest = Math.Max(largest, size);
            while (model.Count > 0 && (model.Count >= maxRecords || modelBytes + size > maxBytes))
            {
                var (k, e) = model.Dequeue();
                modelBytes -= WatchHistory.RecordOverhead + Encoding.UTF8.GetByteCount(k) + (e.Value?.Length ?? 0);
            }
            model.Enqueue((key, new Entry(i, value)));
            modelBytes += size;
            history.Append(key, i, value);

            Assert.True(model.Count == history.Count, $"After append {i}: {history.Count} records kept, the model keeps {model.Count}.");
            Assert.True(modelBytes == history.RetainedBytes, $"After append {i}: {history.RetainedBytes} bytes kept, the model keeps {modelBytes}.");
            Assert.True(history.CapacityBytes <= maxBytes + largest,
                $"After append {i}: the buffer holds {history.CapacityBytes} bytes, more than the bound of {maxBytes} plus the largest record, {largest}.");
            var (oldestKey, oldest) = history.Decode(0);
            Assert.True(oldestKey == model.Peek().Key && KeyedEntryComparer.Instance.Equals((oldestKey, oldest), model.Peek()),
                $"After append {i}: the oldest record is {oldestKey}@{oldest.Seq}, expected {model.Peek().Key}@{model.Peek().Entry.Seq}.");
            if (i % 101 == 0 || i > 19_990)
                AssertSame([.. model], history, $"After append {i}");
            if (i % 5_003 == 0)
            {
                history.Clear();
                model.Clear();
                modelBytes = 0;
            }
        }
    }

    [Fact]
    public void The_last_records_enumerate_oldest_first_after_wraparound()
    {
        var history = new WatchHistory(maxRecords: 10, maxBytes: 1 << 20);
        for (var seq = 1; seq <= 37; seq++)
            history.Append($"k{seq % 3}", seq, Value(seq, (byte)seq));
        var last = Enumerable.Range(history.Count - 4, 4).Select(history.Decode).ToList();
        Assert.Equal([34L, 35, 36, 37], last.Select(h => h.Entry.Seq));
        Assert.Equal(["k1", "k2", "k0", "k1"], last.Select(h => h.Key));
        Assert.Equal(Value(36, 36), last[2].Entry.Value);
    }

    private sealed class EntryComparer : IEqualityComparer<Entry>
    {
        public static readonly EntryComparer Instance = new();

        public bool Equals(Entry x, Entry y) =>
            x.Seq == y.Seq && (x.Value is null ? y.Value is null : y.Value is not null && x.Value.AsSpan().SequenceEqual(y.Value));

        public int GetHashCode(Entry obj) => obj.Seq.GetHashCode();
    }

    private sealed class KeyedEntryComparer : IEqualityComparer<(string Key, Entry Entry)>
    {
        public static readonly KeyedEntryComparer Instance = new();

        public bool Equals((string Key, Entry Entry) x, (string Key, Entry Entry) y) =>
            x.Key == y.Key && EntryComparer.Instance.Equals(x.Entry, y.Entry);

        public int GetHashCode((string Key, Entry Entry) obj) => obj.Key.GetHashCode(StringComparison.Ordinal);
    }
}
