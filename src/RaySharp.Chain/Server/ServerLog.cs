using System.Buffers.Binary;
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
/// A server's append-only log: <c>u32 length | u16 group | u8 kind | i64 seq | key | value</c>.
/// Kind 1 is a value, 2 a tombstone, 3 "forget group" (the server left it or is re-syncing it).
/// Replayed at start-up; a torn last record is cut off.
/// </summary>
internal sealed class ServerLog : IDisposable
{
    public const byte KindValue = 1;
    public const byte KindTombstone = 2;
    public const byte KindReset = 3;

    private readonly SafeFileHandle _file;
    private readonly MemoryStream _pending = new();
    private long _offset;

    public ServerLog(string directory)
    {
        Directory.CreateDirectory(directory);
        Path = System.IO.Path.Combine(directory, "chain.log");
        _file = File.OpenHandle(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _offset = RandomAccess.GetLength(_file);
    }

    public string Path { get; }

    public bool HasPending => _pending.Length > 0;

    /// <summary>The position after every record appended (written or not).</summary>
    public long End => _offset + _pending.Length;

    /// <summary>The position after every record handed to the operating system.</summary>
    public long Written => _offset;

    /// <summary>Replays every complete record; truncates a torn tail.</summary>
    public void Replay(Action<int, byte, long, string, byte[]?> apply)
    {
        var bytes = File.ReadAllBytes(Path);
        var position = 0;
        while (bytes.Length - position >= 4)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            if (length < 15 || bytes.Length - position - 4 < length)
                break;
            var record = bytes.AsSpan(position + 4, length);
            var group = BinaryPrimitives.ReadUInt16LittleEndian(record);
            var kind = record[2];
            var seq = BinaryPrimitives.ReadInt64LittleEndian(record[3..]);
            var keyLength = BinaryPrimitives.ReadUInt16LittleEndian(record[11..]);
            var key = Encoding.UTF8.GetString(record.Slice(13, keyLength));
            var valueLength = BinaryPrimitives.ReadInt32LittleEndian(record[(13 + keyLength)..]);
            var value = kind == KindValue ? record.Slice(17 + keyLength, valueLength).ToArray() : null;
            apply(group, kind, seq, key, value);
            position += 4 + length;
        }
        if (position != bytes.Length)
        {
            RandomAccess.SetLength(_file, position);
            _offset = position;
        }
    }

    public void Append(int group, byte kind, long seq, string key, byte[]? value)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var valueLength = value?.Length ?? 0;
        Span<byte> header = stackalloc byte[17];
        BinaryPrimitives.WriteInt32LittleEndian(header, 2 + 1 + 8 + 2 + keyBytes.Length + 4 + valueLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], (ushort)group);
        header[6] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(header[7..], seq);
        BinaryPrimitives.WriteUInt16LittleEndian(header[15..], (ushort)keyBytes.Length);
        _pending.Write(header);
        _pending.Write(keyBytes);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, valueLength);
        _pending.Write(length);
        if (value is not null)
            _pending.Write(value);
    }

    /// <summary>Hands the records appended so far to the operating system (one write call).</summary>
    public void Write()
    {
        if (_pending.Length == 0)
            return;
        RandomAccess.Write(_file, _pending.GetBuffer().AsSpan(0, (int)_pending.Length), _offset);
        _offset += _pending.Length;
        _pending.SetLength(0);
    }

    /// <summary>Forces everything written so far to disk.</summary>
    public void Sync() => RandomAccess.FlushToDisk(_file);

    public void Dispose()
    {
        _file.Dispose();
        _pending.Dispose();
    }
}
