using System.Buffers;

namespace RaySharp.ObjectStore;

/// <summary>The owner of a mapped region: decides whether it may be touched and tracks pinned handles.</summary>
internal interface IMappedRegionOwner
{
    /// <summary>Throws when the region may no longer be read or written through a Memory.</summary>
    void CheckAccess(bool write);

    void AddPin();

    void RemovePin();
}

/// <summary>
/// A <see cref="MemoryManager{T}"/> over a region of the mapped arena: <c>Memory&lt;T&gt;</c> and
/// <c>ReadOnlyMemory&lt;T&gt;</c> without a copy. Every <c>.Span</c> asks the owner first, so memory of a
/// disposed view or a sealed writer throws instead of reading whatever object reuses the bytes.
/// </summary>
internal sealed unsafe class MappedMemory<T>(IMappedRegionOwner owner, byte* pointer, int length, bool writable) : MemoryManager<T>
    where T : unmanaged
{
    public override Span<T> GetSpan()
    {
        owner.CheckAccess(writable);
        return new Span<T>(pointer, length);
    }

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, length);
        owner.CheckAccess(writable);
        owner.AddPin();
        return new MemoryHandle((T*)pointer + elementIndex, default, this);
    }

    public override void Unpin() => owner.RemovePin();

    protected override void Dispose(bool disposing)
    {
        // The mapping belongs to the client; the owner's disposal releases it.
    }

    /// <summary>Makes a view of <paramref name="byteLength"/> bytes at <paramref name="pointer"/> as elements of T.</summary>
    public static MappedMemory<T> Create(IMappedRegionOwner owner, byte* pointer, long byteLength, bool writable, string what)
    {
        if (byteLength % sizeof(T) != 0)
            throw new InvalidOperationException($"{what} has {byteLength:N0} bytes, not a whole number of {typeof(T).Name} ({sizeof(T)} bytes each).");
        var count = byteLength / sizeof(T);
        if (count > int.MaxValue)
            throw new InvalidOperationException($"{what} has {count:N0} elements of {typeof(T).Name}; a Memory<T> holds at most {int.MaxValue:N0}. View it as a larger element type or split the object.");
        return new MappedMemory<T>(owner, pointer, (int)count, writable);
    }
}
