using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Controller;

/// <summary>
/// The controller's durable state: every configuration it commits, appended and fsync'd before any
/// server or client can see it (<c>u32 length | config</c>). A restarted controller resumes from the last
/// complete record.
/// </summary>
internal sealed class ControllerLog : IDisposable
{
    private readonly SafeFileHandle _file;
    private long _offset;

    public ControllerLog(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "controller.log");
        _file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var bytes = File.ReadAllBytes(path);
        var position = 0;
        while (bytes.Length - position >= 4)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(position));
            if (length <= 0 || bytes.Length - position - 4 < length)
                break;
            var reader = new WireReader(bytes.AsSpan(position + 4, length));
            Last = ChainConfig.Read(ref reader);
            position += 4 + length;
        }
        _offset = position;
        RandomAccess.SetLength(_file, position);
    }

    /// <summary>The last configuration committed before a restart, or null for a new cluster.</summary>
    public ChainConfig? Last { get; }

    public void Append(ChainConfig config)
    {
        var frame = config.WriteTo(new FrameBuilder(OpCode.ConfigReply, 0, 1024)).Build();
        try
        {
            // The frame's own header (u32 length, opcode, request id) is replaced by a plain length prefix.
            var body = frame.Buffer.AsSpan(4 + ChainLimits.HeaderBytes, frame.Length - 4 - ChainLimits.HeaderBytes);
            var record = new byte[4 + body.Length];
            BinaryPrimitives.WriteInt32LittleEndian(record, body.Length);
            body.CopyTo(record.AsSpan(4));
            RandomAccess.Write(_file, record, _offset);
            RandomAccess.FlushToDisk(_file);
            _offset += record.Length;
        }
        finally
        {
            frame.Return();
        }
    }

    public void Dispose() => _file.Dispose();
}
