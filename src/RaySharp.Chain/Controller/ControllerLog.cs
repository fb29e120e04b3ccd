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
        ChainConfig? last = null;
        var position = LogFile.Replay(File.ReadAllBytes(path), 1, body =>
        {
            var reader = new WireReader(body);
            last = ChainConfig.Read(ref reader);
        });
        Last = last;
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
            var record = new byte[LogFile.HeaderBytes + body.Length];
            body.CopyTo(record.AsSpan(LogFile.HeaderBytes));
            LogFile.WriteHeader(record);
            _allocated = LogFile.EnsureAllocated(_file, _allocated, _offset + record.Length, PreallocateBytes);
            RandomAccess.Write(_file, record, _offset);
            LogFile.DataSync(_file);
            _offset += record.Length;
        }
        finally
        {
            frame.Return();
        }
    }

    public void Dispose() => _file.Dispose();
}
