using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RaySharp.Chain.Protocol;

/// <summary>Operation codes of the chain protocol. Codes at or above <see cref="FirstReply"/> are replies.</summary>
internal enum OpCode : byte
{
    // client → server
    Get = 1,
    Put = 2,
    Delete = 3,
    Cas = 4,
    GetConfig = 5,
    Watch = 6,
    LeaseGrant = 7,
    LeaseKeepAlive = 8,
    LeaseRevoke = 9,
    LockAcquire = 10,
    LockRelease = 11,

    // server → server
    Hello = 16,
    Replicate = 17,
    Ack = 18,
    SnapshotBegin = 19,
    SnapshotEntry = 20,
    SnapshotEnd = 21,
    Activate = 22,
    SnapshotHistory = 23,

    // server ↔ controller, admin → controller
    Register = 32,
    Heartbeat = 33,
    PushConfig = 34,
    SyncDone = 35,
    RemoveServer = 36,
    WatchConfig = 37,

    // replies and server-initiated events
    FirstReply = 64,
    Ok = 64,
    Error = 65,
    ConfigReply = 66,
    WatchEvent = 67,
}

/// <summary>Error codes carried by an <see cref="OpCode.Error"/> reply.</summary>
internal enum ErrorCode : byte
{
    Malformed = 1,
    UnknownOpCode = 2,
    TooLarge = 3,
    NotHead = 4,
    NotTail = 5,
    Unavailable = 6,
    LeaseNotFound = 7,
}

/// <summary>Protocol limits, checked on every frame by both ends.</summary>
public static class ChainLimits
{
    /// <summary>Largest key, in UTF-8 bytes (1 KiB).</summary>
    public const int MaxKeyBytes = 1024;

    /// <summary>Largest value, in bytes (256 KiB).</summary>
    public const int MaxValueBytes = 256 * 1024;

    /// <summary>Largest frame body (after the 4-byte length): a value, a key and headers fit with room to spare.</summary>
    public const int MaxFrameBytes = MaxValueBytes + MaxKeyBytes + 4096;

    /// <summary>Frame header after the length: opcode (1) and request id (8).</summary>
    internal const int HeaderBytes = 9;
}

/// <summary>A frame that breaks the protocol: truncated, oversized, or with a field out of range.</summary>
internal sealed class ProtocolException(ErrorCode code, string message) : Exception(message)
{
    public ErrorCode Code { get; } = code;
}

/// <summary>One received frame. The payload is owned by the frame.</summary>
internal readonly record struct Frame(OpCode Op, ulong RequestId, byte[] Payload)
{
    public WireReader Reader() => new(Payload);
}

/// <summary>Builds one frame: <c>u32 length | u8 opcode | u64 request id | payload</c>, little-endian.</summary>
internal sealed class FrameBuilder
{
    private byte[] _buffer;
    private int _length;

    public FrameBuilder(OpCode op, ulong requestId, int capacity = 64)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity + 13, 64));
        _length = 4;
        U8((byte)op);
        U64(requestId);
    }

    public FrameBuilder U8(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
        return this;
    }

    public FrameBuilder U16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_length), value);
        _length += 2;
        return this;
    }

    public FrameBuilder U32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_length), value);
        _length += 4;
        return this;
    }

    public FrameBuilder I32(int value) => U32(unchecked((uint)value));

    public FrameBuilder U64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.AsSpan(_length), value);
        _length += 8;
        return this;
    }

    public FrameBuilder I64(long value) => U64(unchecked((ulong)value));

    /// <summary>A key: u16 length then UTF-8 bytes.</summary>
    public FrameBuilder Key(string key)
    {
        var count = Encoding.UTF8.GetByteCount(key);
        if (count > ChainLimits.MaxKeyBytes)
            throw new ArgumentException($"Key is {count} UTF-8 bytes; the limit is {ChainLimits.MaxKeyBytes}. Use a shorter key.", nameof(key));
        U16((ushort)count);
        Ensure(count);
        _length += Encoding.UTF8.GetBytes(key, _buffer.AsSpan(_length));
        return this;
    }

    /// <summary>A value: u32 length then the bytes.</summary>
    public FrameBuilder Bytes(ReadOnlySpan<byte> value)
    {
        if (value.Length > ChainLimits.MaxValueBytes)
            throw new ArgumentException($"Value is {value.Length} bytes; the limit is {ChainLimits.MaxValueBytes}. Store large data elsewhere and keep a reference here.", nameof(value));
        U32((uint)value.Length);
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(_length));
        _length += value.Length;
        return this;
    }

    /// <summary>Bytes already encoded as fields (records copied from <see cref="Server.WatchHistory"/>), as they are.</summary>
    public FrameBuilder Raw(ReadOnlySpan<byte> encoded)
    {
        Ensure(encoded.Length);
        encoded.CopyTo(_buffer.AsSpan(_length));
        _length += encoded.Length;
        return this;
    }

    /// <summary>A short UTF-8 text (error messages): u16 length then bytes, truncated to 4 KiB.</summary>
    public FrameBuilder Text(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text.Length > 2048 ? text[..2048] : text);
        U16((ushort)bytes.Length);
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
        return this;
    }

    /// <summary>Bytes written so far, the length prefix and header included.</summary>
    public int Length => _length;

    /// <summary>Finishes the frame: a rented buffer and its length, to be returned to the pool after sending.</summary>
    public OutFrame Build()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)(_length - 4));
        var frame = new OutFrame(_buffer, _length);
        _buffer = [];
        return frame;
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length)
            return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + extra));
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}

/// <summary>A built frame in a rented buffer.</summary>
internal readonly record struct OutFrame(byte[] Buffer, int Length)
{
    public void Return() => ArrayPool<byte>.Shared.Return(Buffer);
}

/// <summary>Reads a payload field by field; every read checks the remaining length.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> payload)
{
    private ReadOnlySpan<byte> _rest = payload;

    public readonly int Remaining => _rest.Length;

    public byte U8()
    {
        var span = Take(1, "u8");
        return span[0];
    }

    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, "u16"));

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, "u32"));

    public int I32() => unchecked((int)U32());

    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, "u64"));

    public long I64() => unchecked((long)U64());

    public string Key()
    {
        var count = U16();
        if (count > ChainLimits.MaxKeyBytes)
            throw new ProtocolException(ErrorCode.TooLarge, $"Key of {count} bytes exceeds the limit of {ChainLimits.MaxKeyBytes} bytes.");
        var bytes = Take(count, "key");
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException(ErrorCode.Malformed, "Key is not valid UTF-8.");
        }
    }

    public byte[] Bytes()
    {
        var count = U32();
        if (count > ChainLimits.MaxValueBytes)
            throw new ProtocolException(ErrorCode.TooLarge, $"Value of {count} bytes exceeds the limit of {ChainLimits.MaxValueBytes} bytes.");
        return Take((int)count, "value").ToArray();
    }

    public string Text()
    {
        var count = U16();
        return Encoding.UTF8.GetString(Take(count, "text"));
    }

    /// <summary>Throws unless the whole payload was consumed: trailing bytes mean a malformed frame.</summary>
    public readonly void End()
    {
        if (_rest.Length != 0)
            throw new ProtocolException(ErrorCode.Malformed, $"Frame has {_rest.Length} unexpected trailing bytes.");
    }

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (_rest.Length < count)
            throw new ProtocolException(ErrorCode.Malformed, $"Frame truncated: needed {count} bytes for {what}, {_rest.Length} left.");
        var span = _rest[..count];
        _rest = _rest[count..];
        return span;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, true);
}
