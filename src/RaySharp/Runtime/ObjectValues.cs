using System.Runtime.InteropServices;
using RaySharp.ObjectStore;
using RaySharp.Protocol;

namespace RaySharp.Runtime;

/// <summary>
/// How values are laid out: up to <see cref="InlineLimit"/> bytes they travel inline (MessagePack) with
/// specs and replies; larger ones are written once into the node's shared-memory store. Blittable arrays
/// (<c>float[]</c>, <c>double[]</c>, <c>byte[]</c>, <c>int[]</c>, <c>long[]</c>) are stored raw and
/// aligned, so a task parameter declared <c>ReadOnlyMemory&lt;float&gt;</c> reads them in place.
/// The store object's one metadata byte says which layout it holds.
/// </summary>
internal static class ObjectValues
{
    public const int InlineLimit = 100 * 1024;

    private const byte MessagePackLayout = 0;
    private const byte RawLayout = 1;

    /// <summary>A value ready to store: raw bytes of a blittable array, or its MessagePack encoding (and the refs written inside it).</summary>
    public readonly struct Encoded(byte[]? packed, Array? raw, int rawBytes, ObjectRef[]? refs = null)
    {
        public byte[]? Packed { get; } = packed;
        public Array? Raw { get; } = raw;
        public long Length => Packed?.Length ?? rawBytes;
        public bool Large => Length > InlineLimit;
        /// <summary>Refs serialised inside the value (null if none): the node keeps them alive while this object lives.</summary>
        public ObjectRef[]? Refs { get; } = refs;
        public ObjectId[]? Contained => ContainedRefs.Ids(Refs);
    }

    public static Encoded Encode<T>(T value, string what) => value switch
    {
        float[] a when a.Length * 4L > InlineLimit => new(null, a, a.Length * 4),
        double[] a when a.Length * 8L > InlineLimit => new(null, a, a.Length * 8),
        byte[] a when a.Length > InlineLimit => new(null, a, a.Length),
        int[] a when a.Length * 4L > InlineLimit => new(null, a, a.Length * 4),
        long[] a when a.Length * 8L > InlineLimit => new(null, a, a.Length * 8),
        _ => Packed(RaySerializer.Serialize(value, what, out var refs), refs),
    };

    private static Encoded Packed(byte[] bytes, ObjectRef[]? refs) => new(bytes, null, 0, refs);

    public static Encoded Encode(Type type, object? value, string what)
    {
        if (value is Array { Rank: 1 } array && IsBlittableArray(type))
        {
            var bytes = Buffer.ByteLength(array);
            if (bytes > InlineLimit)
                return new(null, array, bytes);
        }
        return Packed(RaySerializer.Serialize(type, value, what, out var refs), refs);
    }

    private static bool IsBlittableArray(Type t) =>
        t == typeof(float[]) || t == typeof(double[]) || t == typeof(byte[]) || t == typeof(int[]) || t == typeof(long[]);

    private static ReadOnlySpan<byte> RawBytes(Array raw) => raw switch
    {
        float[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        double[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        byte[] a => a,
        int[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        long[] a => MemoryMarshal.AsBytes(a.AsSpan()),
        _ => throw new ArgumentException($"{raw.GetType()} is not stored raw."),
    };

    /// <summary>Writes a large value into the store and seals it (one copy: into shared memory).</summary>
    public static async ValueTask WriteAsync(ObjectStoreClient<ObjectId> store, ObjectId id, Encoded value, CancellationToken cancellationToken = default)
    {
        var writer = await store.CreateAsync(id, value.Length, metadataSize: 1, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            writer.Metadata.Span[0] = value.Raw is null ? MessagePackLayout : RawLayout;
            if (value.Raw is not null)
                RawBytes(value.Raw).CopyTo(writer.Data.Span);
            else
                value.Packed.CopyTo(writer.Data.Span);
            await writer.SealAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Decodes a stored value as <paramref name="type"/> (copying out of shared memory).</summary>
    public static object? Decode(Type type, ObjectView<ObjectId> view)
    {
        if (view.Metadata.Span[0] == MessagePackLayout)
            return RaySerializer.Deserialize(type, view.Data);
        var data = view.Data.Span;
        if (type == typeof(float[])) return MemoryMarshal.Cast<byte, float>(data).ToArray();
        if (type == typeof(double[])) return MemoryMarshal.Cast<byte, double>(data).ToArray();
        if (type == typeof(byte[])) return data.ToArray();
        if (type == typeof(int[])) return MemoryMarshal.Cast<byte, int>(data).ToArray();
        if (type == typeof(long[])) return MemoryMarshal.Cast<byte, long>(data).ToArray();
        throw new InvalidCastException($"Object {view.Key} holds a raw array, which cannot be read as {type}.");
    }

    public static T Decode<T>(ObjectView<ObjectId> view) => (T)Decode(typeof(T), view)!;

    /// <summary>True when the stored object is a raw array (readable in place), not MessagePack.</summary>
    public static bool IsRaw(ObjectView<ObjectId> view) => view.Metadata.Span[0] == RawLayout;

    /// <summary>
    /// For a <c>ReadOnlyMemory&lt;E&gt;</c> parameter: the stored raw array in place (no copy), valid while
    /// the view is open. Null when the parameter is of another type or the object is not raw.
    /// </summary>
    public static object? View(Type parameter, ObjectView<ObjectId> view)
    {
        if (view.Metadata.Span[0] != RawLayout || !parameter.IsGenericType || parameter.GetGenericTypeDefinition() != typeof(ReadOnlyMemory<>))
            return null;
        var element = parameter.GetGenericArguments()[0];
        if (element == typeof(float)) return view.GetData<float>();
        if (element == typeof(double)) return view.GetData<double>();
        if (element == typeof(byte)) return view.Data;
        if (element == typeof(int)) return view.GetData<int>();
        if (element == typeof(long)) return view.GetData<long>();
        return null;
    }

    /// <summary>For a <c>ReadOnlyMemory&lt;E&gt;</c> parameter fed an inline value: the decoded E[] as memory.</summary>
    public static object? DecodeInline(Type parameter, ReadOnlyMemory<byte> data)
    {
        if (parameter.IsGenericType && parameter.GetGenericTypeDefinition() == typeof(ReadOnlyMemory<>))
        {
            var array = (Array?)RaySerializer.Deserialize(parameter.GetGenericArguments()[0].MakeArrayType(), data);
            return array is null ? null : Activator.CreateInstance(parameter, array);
        }
        return RaySerializer.Deserialize(parameter, data);
    }

    public static ErrorInfo StoreError(ObjectId id, ObjectStoreException e) => ErrorInfo.Of(
        e.Error is ObjectStoreError.NotFound ? ErrorKind.ObjectLost : ErrorKind.System,
        $"Object {id} could not be read from or written to the node's object store: {e.Message}");
}
