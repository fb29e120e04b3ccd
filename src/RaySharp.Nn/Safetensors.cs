using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace RaySharp.Nn;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian header length,
/// a JSON header mapping each name to <c>{"dtype","shape","data_offsets"}</c>, then the raw
/// little-endian data. Only <c>F32</c> tensors are written or read.
/// </summary>
public static class Safetensors
{
    /// <summary>Writes <paramref name="tensors"/> (name → tensor) to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is empty.</exception>
    public static void Save(string path, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.Create(path);
        Save(file, tensors, metadata);
    }

    /// <summary>The safetensors encoding of <paramref name="tensors"/> as bytes.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is empty.</exception>
    public static byte[] ToBytes(IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        Save(stream, tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>Writes <paramref name="tensors"/> (name → tensor) to <paramref name="stream"/>, which is left open.</summary>
    /// <exception cref="ArgumentException">Two tensors share a name, or a name is empty.</exception>
    public static void Save(Stream stream, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToArray();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in list)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
                throw new ArgumentException($"'{name}' cannot name a tensor in a safetensors file.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"Two tensors are named '{name}'.", nameof(tensors));
        }

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in list)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += t.Length * 4L;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        var file = stream;
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        file.Write(len);
        header.Position = 0;
        header.CopyTo(file);
        foreach (var (_, t) in list)
        {
            if (BitConverter.IsLittleEndian)
            {
                file.Write(MemoryMarshal.AsBytes(t.Span));
            }
            else
            {
                var buf = new byte[4];
                foreach (var v in t.Span)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buf, v);
                    file.Write(buf);
                }
            }
        }
    }

    /// <summary>Reads every tensor of a safetensors file.</summary>
    /// <exception cref="InvalidDataException">The file is not valid safetensors or holds a dtype other than F32.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), $"'{path}'");
    }

    /// <summary>Reads every tensor of safetensors data held in <paramref name="bytes"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not valid safetensors or holds a dtype other than F32.</exception>
    public static Dictionary<string, Tensor> Load(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Load(bytes, "the safetensors data");
    }

    /// <summary>Reads every tensor of safetensors data from <paramref name="stream"/> (read to its end).</summary>
    /// <exception cref="InvalidDataException">The data is not valid safetensors or holds a dtype other than F32.</exception>
    public static Dictionary<string, Tensor> Load(Stream stream) => Load(ReadAll(stream), "the safetensors stream");

    /// <summary>The <c>__metadata__</c> strings of a safetensors file (empty when it has none).</summary>
    /// <exception cref="InvalidDataException">The file is not valid safetensors.</exception>
    public static Dictionary<string, string> ReadMetadata(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReadMetadata(File.ReadAllBytes(path), $"'{path}'");
    }

    /// <summary>The <c>__metadata__</c> strings of safetensors data (empty when it has none).</summary>
    /// <exception cref="InvalidDataException">The data is not valid safetensors.</exception>
    public static Dictionary<string, string> ReadMetadata(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return ReadMetadata(bytes, "the safetensors data");
    }

    private static byte[] ReadAll(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static Dictionary<string, string> ReadMetadata(byte[] bytes, string source)
    {
        using var doc = ParseHeader(bytes, source, out _);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (doc.RootElement.TryGetProperty("__metadata__", out var meta))
            foreach (var p in meta.EnumerateObject()) result[p.Name] = p.Value.GetString() ?? "";
        return result;
    }

    private static JsonDocument ParseHeader(byte[] bytes, string source, out int dataStart)
    {
        if (bytes.Length < 8)
            throw new InvalidDataException($"{source} is too short to be safetensors ({bytes.Length} bytes).");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{source} declares a {headerLength}-byte header but holds only {bytes.Length - 8} bytes after the length.");
        dataStart = 8 + (int)headerLength;
        try
        {
            return JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} has an unreadable safetensors header: {e.Message}", e);
        }
    }

    private static Dictionary<string, Tensor> Load(byte[] bytes, string source)
    {
        var doc = ParseHeader(bytes, source, out var dataStart);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (doc)
        {
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                var dtype = entry.Value.GetProperty("dtype").GetString();
                if (dtype != "F32")
                    throw new InvalidDataException($"{source}: tensor '{entry.Name}' has dtype {dtype}; only F32 is supported.");
                var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                var count = Tensor.CheckShape(shape);
                if (offsets.Length != 2 || offsets[1] - offsets[0] != count * 4L || dataStart + offsets[1] > bytes.Length || offsets[0] < 0)
                    throw new InvalidDataException($"{source}: tensor '{entry.Name}' of shape {Tensor.FormatShape(shape)} has bad data offsets [{string.Join(", ", offsets)}].");
                var data = new float[count];
                var src = bytes.AsSpan(dataStart + (int)offsets[0], count * 4);
                for (var i = 0; i < count; i++) data[i] = BinaryPrimitives.ReadSingleLittleEndian(src[(i * 4)..]);
                result[entry.Name] = new Tensor(data, shape);
            }
        }
        return result;
    }
}
