using System.Net;
using System.Text;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;

namespace RaySharp.Chain.Fuzz;

/// <summary>
/// Chain's decoders of bytes that come from other processes, behind one entry point for the fuzzer and the
/// property tests: the first input byte picks a decoder, the rest is its input. A decoder may refuse its input
/// with a <see cref="ProtocolException"/> (or return false); any other exception is a bug — the fuzzer reports it
/// as a crash, the property tests as a failure.
/// </summary>
internal static class DecoderTargets
{
    /// <summary>Decoders <see cref="Run"/> picks from (the first byte modulo this).</summary>
    public const int Count = 7;

    /// <summary>Decodes <paramref name="input"/>; true when it was accepted, false when refused as malformed.</summary>
    public static bool Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return false;
        var payload = input[1..].ToArray();
        try
        {
            switch (input[0] % Count)
            {
                case 0:
                    {
                        // A configuration, as pushed by the controller and answered by peers (GetConfig).
                        var reader = new WireReader(payload);
                        ChainConfig.Read(ref reader);
                        reader.End();
                        return true;
                    }
                case 1:
                    {
                        // Replicate / SnapshotEntry: epoch, group, one record.
                        var reader = new WireReader(payload);
                        reader.I64();
                        reader.U16();
                        WatchHistory.ReadRecord(ref reader);
                        reader.End();
                        return true;
                    }
                case 2:
                    {
                        // SnapshotHistory: epoch, group, records until the end; kept in a history, read back.
                        var reader = new WireReader(payload);
                        reader.I64();
                        reader.U16();
                        var history = new WatchHistory(64, 1 << 20);
                        do
                        {
                            var (_, key, entry) = WatchHistory.ReadRecord(ref reader);
                            history.Append(key, entry.Seq, entry.Value);
                        }
                        while (reader.Remaining > 0);
                        _ = history.Versions(_ => true).Count;
                        return true;
                    }
                case 3:
                    {
                        // Ack: epoch, then (group, sequence, key) until the end.
                        var reader = new WireReader(payload);
                        reader.I64();
                        do
                        {
                            reader.U16();
                            reader.I64();
                            reader.Key();
                        }
                        while (reader.Remaining > 0);
                        return true;
                    }
                case 4:
                    {
                        // A lease record and a lock's queue, as stored values (from peers and the log).
                        var lease = Coordination.TryParseLease(payload, out _, out var attached);
                        if (lease && attached.Any(a => a.Kind is not ((byte)'K' or (byte)'L')))
                            throw new InvalidOperationException("TryParseLease accepted an attachment of an unknown kind.");
                        _ = Coordination.ParseQueue(payload);
                        return lease;
                    }
                case 5:
                    {
                        // A key as a client sends it, then the server's own checks on it.
                        var reader = new WireReader(payload);
                        var key = reader.Key();
                        Coordination.CheckClientKey(key);
                        Coordination.TryParseLeaseKey(Encoding.UTF8.GetString(payload), out _);
                        return true;
                    }
                default:
                    {
                        // Watch: group, flags, key, resumed keys with versions.
                        var reader = new WireReader(payload);
                        reader.U16();
                        var flags = reader.U8();
                        Coordination.CheckClientKey(reader.Key(), allowEmpty: (flags & 1) != 0);
                        var count = reader.I32();
                        if (count < 0 || count > reader.Remaining / 10)
                            throw new ProtocolException(ErrorCode.Malformed, "count");
                        for (var i = 0; i < count; i++)
                        {
                            reader.Key();
                            reader.I64();
                        }
                        reader.End();
                        return true;
                    }
            }
        }
        catch (ProtocolException)
        {
            return false;
        }
    }

    /// <summary>A well-formed input for decoder <paramref name="decoder"/> of <see cref="DecoderTargets"/>.</summary>
    public static byte[] ValidInput(int decoder)
    {
        var frame = new FrameBuilder(OpCode.Ok, 0);
        switch (decoder)
        {
            case 0:
                new ChainConfig(3, 2, new Dictionary<int, IPEndPoint> { [0] = IPEndPoint.Parse("127.0.0.1:7001"), [1] = IPEndPoint.Parse("127.0.0.1:7002") },
                    [[0, 1], [1, 0]], [ChainConfig.NoJoiner, 1]).WriteTo(frame);
                break;
            case 1:
                frame.I64(3).U16(1).U8(ServerLog.KindValue).I64(7).Key("k").Bytes("value"u8);
                break;
            case 2:
                frame.I64(3).U16(1).U8(ServerLog.KindValue).I64(7).Key("k").Bytes("v7"u8).U8(ServerLog.KindTombstone).I64(8).Key("k").Bytes([]);
                break;
            case 3:
                frame.I64(3).U16(1).I64(7).Key("k").U16(2).I64(1).Key("j");
                break;
            case 4:
                frame.Raw(Coordination.LeaseRecord(500, [((byte)'K', "eph/a"), ((byte)'L', "locks/x")]));
                break;
            case 5:
                frame.Key("config/model");
                break;
            default:
                frame.U16(1).U8(2).Key("w/").I32(1).Key("w/a").I64(4);
                break;
        }
        var built = frame.Build();
        var input = new byte[1 + built.Length - 13];
        input[0] = (byte)decoder;
        built.Buffer.AsSpan(13, built.Length - 13).CopyTo(input.AsSpan(1));
        built.Return();
        return input;
    }
}
