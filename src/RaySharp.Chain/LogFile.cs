using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RaySharp.Chain;

/// <summary>
/// What the server's and the controller's append-only logs share: records framed as
/// <c>u32 length | u32 crc32c(body) | body</c>, replayed up to the first one whose length or checksum does
/// not hold (the zeros after the data, or a torn write); files extended ahead of the data with fsync'd zeros,
/// so that forcing an append is an <c>fdatasync</c> that changes no file metadata.
/// </summary>
internal static class LogFile
{
    /// <summary>Bytes before a record's body: length and checksum.</summary>
    public const int HeaderBytes = 8;

    /// <summary>Receives one intact record's body during <see cref="Replay"/>.</summary>
    public delegate void RecordAction(ReadOnlySpan<byte> body);

    /// <summary>Hands every intact record of <paramref name="bytes"/> with a body of at least <paramref name="minBody"/>
    /// bytes to <paramref name="apply"/>, in order; returns the position after the last one.</summary>
    public static int Replay(byte[] bytes, int minBody, RecordAction apply)
    {
        var position = 0;
        while (bytes.Length - position >= HeaderBytes)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            if (length < Math.Max(1, minBody) || bytes.Length - position - HeaderBytes < length)
                break;
            var body = bytes.AsSpan(position + HeaderBytes, length);
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(position + 4)) != Crc(body))
                break;
            apply(body);
            position += HeaderBytes + length;
        }
        return position;
    }

    /// <summary>Writes the header of <paramref name="record"/>, whose body follows <see cref="HeaderBytes"/>.</summary>
    public static void WriteHeader(Span<byte> record)
    {
        var body = record[HeaderBytes..];
        BinaryPrimitives.WriteInt32LittleEndian(record, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc(body));
    }

    /// <summary>CRC-32C (Castagnoli) of <paramref name="data"/>.</summary>
    public static uint Crc(ReadOnlySpan<byte> data)
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

    /// <summary>
    /// Extends <paramref name="file"/> with fsync'd zeros, by at least <paramref name="step"/>, when
    /// <paramref name="needed"/> bytes pass what is <paramref name="allocated"/>; returns the new allocation.
    /// </summary>
    public static long EnsureAllocated(SafeFileHandle file, long allocated, long needed, long step)
    {
        if (needed <= allocated)
            return allocated;
        var target = Math.Max(needed, allocated + step);
        var zeros = new byte[64 * 1024];
        for (var at = allocated; at < target; at += zeros.Length)
            RandomAccess.Write(file, zeros.AsSpan(0, (int)Math.Min(zeros.Length, target - at)), at);
        RandomAccess.FlushToDisk(file);
        return target;
    }

    /// <summary>Forces the file's data to disk: <c>fdatasync</c> on Linux, a full flush elsewhere or if it fails.</summary>
    public static void DataSync(SafeFileHandle file)
    {
        if (!OperatingSystem.IsLinux() || FDataSync(file) != 0)
            RandomAccess.FlushToDisk(file);
    }

#pragma warning disable SYSLIB1054 // a blittable call; LibraryImport would need unsafe code for nothing
    [DllImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static extern int FDataSync(SafeFileHandle fd);
#pragma warning restore SYSLIB1054
}
