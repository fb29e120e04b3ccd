using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace RaySharp.ObjectStore;

/// <summary>
/// The binary encoding of <see cref="IObjectStoreControl{TKey}"/> calls, for processes on one node (keys
/// travel as their raw bytes). Request: <c>[op u8][key]</c> then the op's arguments (little-endian).
/// Reply: <c>[status u8]</c> — 0 and the result, or an <see cref="ObjectStoreError"/> + 1 and a UTF-8 message.
/// </summary>
internal static class ObjectStoreProtocol
{
    public enum Op : byte
    {
        Reserve = 1,
        Seal = 2,
        Pin = 3,
        Release = 4,
        Delete = 5,
        Lookup = 6,
    }

    public const byte Ok = 0;

    public static int KeySize<TKey>()
        where TKey : unmanaged => Unsafe.SizeOf<TKey>();

    public static void WriteRequest<TKey>(IBufferWriter<byte> output, Op op, TKey key, long a = 0, int b = 0)
        where TKey : unmanaged
    {
        var keySize = KeySize<TKey>();
        var span = output.GetSpan(1 + keySize + 12);
        span[0] = (byte)op;
        MemoryMarshal.Write(span[1..], in key);
        var length = 1 + keySize;
        if (op is Op.Reserve or Op.Seal)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[length..], a);
            length += 8;
        }
        if (op is Op.Reserve)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[length..], b);
            length += 4;
        }
        output.Advance(length);
    }

    public static void WriteLocation(IBufferWriter<byte> output, ObjectLocation location)
    {
        var span = output.GetSpan(21);
        span[0] = Ok;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], location.Offset);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], location.DataSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[17..], location.MetadataSize);
        output.Advance(21);
    }

    public static void WriteOk(IBufferWriter<byte> output, byte value = 0)
    {
        var span = output.GetSpan(2);
        span[0] = Ok;
        span[1] = value;
        output.Advance(2);
    }

    public static void WriteInfo(IBufferWriter<byte> output, ObjectInfo? info)
    {
        var span = output.GetSpan(19);
        span[0] = Ok;
        span[1] = info is null ? (byte)0 : (byte)1;
        var i = info.GetValueOrDefault();
        span[2] = (byte)i.State;
        BinaryPrimitives.WriteInt64LittleEndian(span[3..], i.DataSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[11..], i.MetadataSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[15..], i.PinCount);
        output.Advance(19);
    }

    public static void WriteError(IBufferWriter<byte> output, ObjectStoreError error, string message)
    {
        var span = output.GetSpan(1 + Encoding.UTF8.GetMaxByteCount(message.Length));
        span[0] = (byte)(error + 1);
        output.Advance(1 + Encoding.UTF8.GetBytes(message, span[1..]));
    }

    /// <summary>Throws the encoded error, or returns the payload after the status byte.</summary>
    public static ReadOnlySpan<byte> CheckReply(ReadOnlySpan<byte> reply, int payloadLength)
    {
        if (reply.IsEmpty)
            throw Malformed("an empty reply");
        if (reply[0] != Ok)
        {
            var error = (ObjectStoreError)(reply[0] - 1);
            if (!Enum.IsDefined(error))
                throw Malformed($"status {reply[0]}");
            throw ObjectStoreException.Create(error, Encoding.UTF8.GetString(reply[1..]));
        }
        if (reply.Length != 1 + payloadLength)
            throw Malformed($"a {reply.Length}-byte reply where {1 + payloadLength} were expected");
        return reply[1..];
    }

    public static ObjectLocation ReadLocation(ReadOnlySpan<byte> payload) => new(
        BinaryPrimitives.ReadInt64LittleEndian(payload),
        BinaryPrimitives.ReadInt64LittleEndian(payload[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(payload[16..]));

    public static ObjectInfo? ReadInfo(ReadOnlySpan<byte> payload) => payload[0] == 0
        ? null
        : new ObjectInfo((ObjectState)payload[1], BinaryPrimitives.ReadInt64LittleEndian(payload[2..]),
            BinaryPrimitives.ReadInt32LittleEndian(payload[10..]), BinaryPrimitives.ReadInt32LittleEndian(payload[14..]));

    public static InvalidDataException Malformed(string what) =>
        new($"Malformed object store message: {what}. Both ends must run the same RaySharp.ObjectStore and key type.");
}
