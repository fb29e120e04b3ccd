using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace RaySharp.Chain.Server;

/// <summary>When a server forces its log to disk.</summary>
public enum FsyncPolicy
{
    /// <summary>Writes reach the operating system before anything that depends on them is sent (survives a
    /// process crash, not a machine crash).</summary>
    None,

    /// <summary>fsync before any dependent message is sent (group commit: one fsync covers every write
    /// batched behind it). Survives a machine crash, as ZooKeeper and etcd do by default.</summary>
    Always,
}

/// <summary>
/// A server's append-only log: records <c>u32 length | u32 crc32c(body) | body</c> with body
/// <c>u16 group | u8 kind | i64 seq | u16 key length | key | i32 value length | value</c>. Kind 1 is a
/// value, 2 a tombstone, 3 "forget group" (the server left it or is re-syncing it).
/// <para>
/// The file is extended ahead of the data in zero-filled, fsync'd steps (as ZooKeeper preallocates its
/// transaction log), so that forcing an append to disk is an <c>fdatasync</c> that changes no file
/// metadata — measured 0.44 ms instead of 1.17 ms for append + fsync on this machine's disk. Replay stops
/// at the first record whose length or checksum does not hold (the zeros after the data, or a torn write)
/// and cuts the file there.
/// </para>
/// <para>
/// Compaction: when the file has grown past a threshold and twice its size after the last compaction, the
/// server rewrites it as one record per key (tombstones included, so versions are never reused) into a
/// new file, syncs it and renames it over the old one.
/// </para>
/// <para>
/// Positions (<see cref="End"/>, <see cref="Written"/>) are logical and only grow, across compactions, so
/// that what waits for a position to be on disk keeps its meaning.
/// </para>
/// </summary>
internal sealed partial class ServerLog : IDisposable
{
    public const byte KindValue = 1;
    public const byte KindTombstone = 2;
    public const byte KindReset = 3;

    private const int HeaderBytes = LogFile.HeaderBytes;
    private const int BodyFixedBytes = 2 + 1 + 8 + 2 + 4;
    private const long PreallocateBytes = 4 << 20;

    private readonly MemoryStream _pending = new();
    private SafeFileHandle _file;
    private long _offset;
    private long _allocated;
    private long _base;

    public ServerLog(string directory, long compactionBytes)
    {
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "chain.log");
        CompactionBytes = compactionBytes;
        _file = File.OpenHandle(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _allocated = RandomAccess.GetLength(_file);
    }

    public string Path { get; }

    /// <summary>File size that makes the log eligible for compaction.</summary>
    public long CompactionBytes { get; }

    /// <summary>Size of the data in the file after the last compaction or replay.</summary>
    public long CompactedBytes { get; private set; }

    /// <summary>Number of compactions since start-up.</summary>
    public int Compactions { get; private set; }

    public bool HasPending => _pending.Length > 0;

    /// <summary>The position after every record appended (written or not).</summary>
    public long End => _base + _offset + _pending.Length;

    /// <summary>The position after every record handed to the operating system.</summary>
    public long Written => _base + _offset;

    /// <summary>True when the file has grown enough that rewriting it as a snapshot pays.</summary>
    public bool WantsCompaction => _offset > CompactionBytes && _offset > 2 * CompactedBytes;

    /// <summary>Replays every intact record; cuts the file at the first one that is not (torn or never written).</summary>
    public void Replay(Action<int, byte, long, string, byte[]?> apply)
    {
        var bytes = File.ReadAllBytes(Path);
        var position = LogFile.Replay(bytes, BodyFixedBytes, record =>
        {
            var group = BinaryPrimitives.ReadUInt16LittleEndian(record);
            var kind = record[2];
            var seq = BinaryPrimitives.ReadInt64LittleEndian(record[3..]);
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[11..]);
            var key = Encoding.UTF8.GetString(record.Slice(13, keyLength));
            var valueLength = BinaryPrimitives.ReadInt32LittleEndian(record[(13 + keyLength)..]);
            var value = kind == KindValue ? record.Slice(17 + keyLength, valueLength).ToArray() : null;
            apply(group, kind, seq, key, value);
        });
        _offset = position;
        CompactedBytes = position;
        if (position != bytes.Length)
        {
            RandomAccess.SetLength(_file, position);
            _allocated = position;
        }
    }

    public void Append(int group, byte kind, long seq, string key, byte[]? value) => AppendTo(_pending, group, kind, seq, key, value);

    private static void AppendTo(MemoryStream stream, int group, byte kind, long seq, string key, byte[]? value)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var valueLength = value?.Length ?? 0;
        var bodyLength = BodyFixedBytes + keyBytes.Length + valueLength;
        var start = (int)stream.Length;
        stream.SetLength(start + HeaderBytes + bodyLength);
        var record = stream.GetBuffer().AsSpan(start, HeaderBytes + bodyLength);
        var body = record[HeaderBytes..];
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)group);
        body[2] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(body[3..], seq);
        BinaryPrimitives.WriteUInt16LittleEndian(body[11..], (ushort)keyBytes.Length);
        keyBytes.CopyTo(body[13..]);
        BinaryPrimitives.WriteInt32LittleEndian(body[(13 + keyBytes.Length)..], valueLength);
        value?.CopyTo(body[(17 + keyBytes.Length)..]);
        LogFile.WriteHeader(record);
        stream.Position = stream.Length;
    }

    /// <summary>Hands the records appended so far to the operating system (one write call).</summary>
    public void Write()
    {
        if (_pending.Length == 0)
            return;
        _allocated = LogFile.EnsureAllocated(_file, _allocated, _offset + _pending.Length, PreallocateBytes);
        RandomAccess.Write(_file, _pending.GetBuffer().AsSpan(0, (int)_pending.Length), _offset);
        _offset += _pending.Length;
        _pending.SetLength(0);
    }

    /// <summary>Forces everything written so far to disk.</summary>
    public void Sync()
    {
        try
        {
            LogFile.DataSync(_file);
        }
        catch (ObjectDisposedException)
        {
            // A compaction replaced the file meanwhile; it synced everything written before it.
        }
    }

#pragma warning disable SYSLIB1054 // blittable calls; LibraryImport would need unsafe code for nothing
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenDirectory(string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int FSync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
#pragma warning restore SYSLIB1054

    /// <summary>
    /// Rewrites the log as <paramref name="records"/> (the server's whole state) in a new file, syncs it,
    /// renames it over the log and syncs the directory. Everything appended so far is then on disk.
    /// </summary>
    public void Compact(IEnumerable<(int Group, string Key, long Seq, byte[]? Value)> records)
    {
        Write();
        var logicalEnd = End;
        var temporary = Path + ".compact";
        using (var stream = new MemoryStream())
        {
            using var file = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
            long written = 0;
            foreach (var (group, key, seq, value) in records)
            {
                AppendTo(stream, group, value is null ? KindTombstone : KindValue, seq, key, value);
                if (stream.Length >= 1 << 20)
                {
                    RandomAccess.Write(file, stream.GetBuffer().AsSpan(0, (int)stream.Length), written);
                    written += stream.Length;
                    stream.SetLength(0);
                }
            }
            RandomAccess.Write(file, stream.GetBuffer().AsSpan(0, (int)stream.Length), written);
            written += stream.Length;
            RandomAccess.FlushToDisk(file);
            CompactedBytes = written;
        }
        _file.Dispose();
        File.Move(temporary, Path, overwrite: true);
        SyncDirectory();
        _file = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        _offset = CompactedBytes;
        _allocated = CompactedBytes;
        _base = logicalEnd - _offset;
        Compactions++;
    }

    /// <summary>Makes the rename durable (.NET opens no directory handles, hence libc).</summary>
    private void SyncDirectory()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = OpenDirectory(System.IO.Path.GetDirectoryName(Path)!, 0);
        if (fd < 0)
            throw new IOException($"Could not open the log directory of {Path} to sync a compaction (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (FSync(fd) != 0)
                throw new IOException($"Could not sync the log directory of {Path} after a compaction (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    public void Dispose()
    {
        _file.Dispose();
        _pending.Dispose();
    }
}
