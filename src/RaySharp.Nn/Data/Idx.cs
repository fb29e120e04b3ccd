using System.Buffers.Binary;
using System.IO.Compression;

namespace RaySharp.Nn;

/// <summary>
/// Reads the idx format of (Fashion-)MNIST: a big-endian magic number 0x00 0x00 type rank, one
/// 32-bit big-endian size per dimension, then the data. Only unsigned bytes (type 0x08) are read;
/// files ending in <c>.gz</c> are decompressed.
/// </summary>
public static class Idx
{
    /// <summary>Reads an idx file: its dimensions and its bytes.</summary>
    /// <exception cref="InvalidDataException">The file is not an idx file of unsigned bytes, or is truncated.</exception>
    public static (int[] Shape, byte[] Data) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        return Read(stream, $"'{path}'");
    }

    /// <summary>Reads idx data from <paramref name="stream"/> (uncompressed).</summary>
    /// <exception cref="InvalidDataException">The data is not idx of unsigned bytes, or is truncated.</exception>
    public static (int[] Shape, byte[] Data) Read(Stream stream) => Read(stream, "the idx stream");

    /// <summary>Writes unsigned bytes as an idx file (gzip-compressed when the path ends in <c>.gz</c>).</summary>
    /// <exception cref="ArgumentException">The data length differs from the shape's element count.</exception>
    public static void Write(string path, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (shape.Length is 0 or > 255 || shape.Aggregate(1L, (a, d) => a * d) != data.Length)
            throw new ArgumentException($"An idx file of shape {Tensor.FormatShape(shape)} cannot hold {data.Length} bytes.", nameof(data));
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Fastest) : file;
        var header = new byte[4 + 4 * shape.Length];
        (header[2], header[3]) = (0x08, (byte)shape.Length);
        for (var i = 0; i < shape.Length; i++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), shape[i]);
        stream.Write(header);
        stream.Write(data);
    }

    private static (int[] Shape, byte[] Data) Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[4];
        if (stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4 || head[0] != 0 || head[1] != 0)
            throw new InvalidDataException($"{source} is not an idx file (it does not start with the idx magic 0x00 0x00).");
        if (head[2] != 0x08)
            throw new InvalidDataException($"{source} holds idx type 0x{head[2]:x2}; only unsigned bytes (0x08) are supported.");
        var shape = new int[head[3]];
        Span<byte> dim = stackalloc byte[4];
        long count = 1;
        for (var i = 0; i < shape.Length; i++)
        {
            if (stream.ReadAtLeast(dim, 4, throwOnEndOfStream: false) < 4)
                throw new InvalidDataException($"{source} ends inside its header.");
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(dim);
            count *= shape[i];
        }
        if (count < 0 || count > Array.MaxLength)
            throw new InvalidDataException($"{source} declares an impossible shape {Tensor.FormatShape(shape)}.");
        var data = new byte[count];
        var read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
            throw new InvalidDataException($"{source} is truncated: shape {Tensor.FormatShape(shape)} needs {data.Length} bytes of data, found {read}.");
        return (shape, data);
    }
}
