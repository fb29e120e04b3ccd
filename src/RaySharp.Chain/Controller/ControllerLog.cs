using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Controller;

/// <summary>
/// The controller's durable state: every configuration it commits, appended and forced to disk before any
/// server or client can see it (<c>u32 length | u32 crc32c(config) | config</c>). A restarted controller
/// resumes from the last complete record.
/// <para>
/// The file is extended ahead of the records in zero-filled, fsync'd 1 MiB steps, so forcing an append is an
/// <c>fdatasync</c> that changes no file metadata and so does not wait for the file system's journal — which
/// other processes' syncs keep busy. This sync is on every failover's path (a failover configuration
/// is pushed only once it is on disk): measured on this machine while another process ran fsync-heavy
/// benchmarks, appending and fsyncing a growing file took up to 60 ms. Replay stops at the first record whose
/// length or checksum does not hold (the zeros after the data, or a torn write) and cuts the file there.
/// </para>
/// </summary>
internal sealed class ControllerLog : IDisposable
{
    private const long PreallocateBytes = 1 << 20;

    private readonly SafeFileHandle _file;
    private long _offset;
    private long _allocated;

    public ControllerLog(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "controller.log");
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var bytes = File.ReadAllBytes(path);
        var position = 0;
        while (bytes.Length - position >= 8)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            if (length <= 0 || bytes.Length - position - 8 < length)
                break;
            var body = bytes.AsSpan(position + 8, length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position + 4)) != Crc(body))
                break;
            var reader = new WireReader(body);
            Last = ChainConfig.Read(ref reader);
            position += 8 + length;
        }
        _offset = position;
        // Whatever follows the last good record (zeros, a torn record) is cut off and preallocated afresh.
        RandomAccess.SetLength(_file, position);
        _allocated = position;
    }

    /// <summary>The last configuration committed before a restart, or null for a new cluster.</summary>
    public ChainConfig? Last { get; }

    public void Append(ChainConfig config)
    {
        var frame = config.WriteTo(new FrameBuilder(OpCode.ConfigReply, 0, 1024)).Build();
        try
        {
            // The frame's own header (u32 length, opcode, request id) is replaced by length and checksum.
            var body = frame.Buffer.AsSpan(4 + ChainLimits.HeaderBytes, frame.Length - 4 - ChainLimits.HeaderBytes);
            var record = new byte[8 + body.Length];
            BinaryPrimitives.WriteInt32LittleEndian(record, body.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc(body));
            body.CopyTo(record.AsSpan(8));
            EnsureAllocated(_offset + record.Length);
            RandomAccess.Write(_file, record, _offset);
            if (!OperatingSystem.IsLinux() || FDataSync(_file) != 0)
                RandomAccess.FlushToDisk(_file);
            _offset += record.Length;
        }
        finally
        {
            frame.Return();
        }
    }

    /// <summary>Extends the file with fsync'd zeros so that syncing appends needs no metadata update.</summary>
    private void EnsureAllocated(long needed)
    {
        if (needed <= _allocated)
            return;
        var target = Math.Max(needed, _allocated + PreallocateBytes);
        var zeros = new byte[64 * 1024];
        for (var at = _allocated; at < target; at += zeros.Length)
            RandomAccess.Write(_file, zeros.AsSpan(0, (int)Math.Min(zeros.Length, target - at)), at);
        RandomAccess.FlushToDisk(_file);
        _allocated = target;
    }

    private static uint Crc(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

#pragma warning disable SYSLIB1054 // a blittable call; LibraryImport would need unsafe code for nothing
    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static extern int FDataSync(SafeFileHandle fd);
#pragma warning restore SYSLIB1054

    public void Dispose() => _file.Dispose();
}
