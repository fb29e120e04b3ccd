using System.Globalization;

namespace RaySharp.ObjectStore;

/// <summary>
/// One object's place in the mapped arena, shared by <see cref="ObjectView{TKey}"/> and
/// <see cref="ObjectWriter{TKey}"/>: maps its data and metadata as typed memory for an owner that
/// guards access, and names the object in error messages.
/// </summary>
internal readonly struct ObjectRegion<TKey>(ArenaMapping mapping, TKey key, ObjectLocation location)
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    /// <summary>The arena mapping the object lies in; its owner releases it once.</summary>
    public ArenaMapping Mapping => mapping;

    /// <summary>The object's key, formatted for messages.</summary>
    public string KeyText => key.ToString(null, CultureInfo.InvariantCulture);

    /// <summary>The data region (64-byte aligned) as elements of <typeparamref name="T"/>.</summary>
    public unsafe MappedMemory<T> MapData<T>(IMappedRegionOwner owner, bool writable)
        where T : unmanaged =>
        MappedMemory<T>.Create(owner, mapping.Pointer + location.DataOffset, location.DataSize, writable, Describe("data"));

    /// <summary>The metadata region, as bytes.</summary>
    public unsafe MappedMemory<byte> MapMetadata(IMappedRegionOwner owner, bool writable) =>
        MappedMemory<byte>.Create(owner, mapping.Pointer + location.Offset, location.MetadataSize, writable, Describe("metadata"));

    private string Describe(string region) => $"The {region} of object {KeyText}";
}
