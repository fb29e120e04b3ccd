namespace RaySharp.ObjectStore;

/// <summary>
/// Where an object lies in the store's shared-memory arena. Layout of one object:
/// <c>[metadata][padding to 64][data]</c>; both regions start 64-byte aligned (the arena is page
/// aligned), so a data region of <c>float</c>, <c>double</c> or any unmanaged <c>T</c> can be viewed in
/// place.
/// </summary>
/// <param name="Offset">Byte offset of the object (its metadata) in the arena; a multiple of 64.</param>
/// <param name="DataSize">Bytes of data.</param>
/// <param name="MetadataSize">Bytes of metadata (0 when none).</param>
public readonly record struct ObjectLocation(long Offset, long DataSize, int MetadataSize)
{
    /// <summary>Byte offset of the data region in the arena; a multiple of 64.</summary>
    public long DataOffset => Offset + ArenaAllocator.AlignUp(MetadataSize);

    /// <summary>Bytes the object occupies in the arena (both regions, each rounded up to 64).</summary>
    public long AllocatedSize => AllocationSize(DataSize, MetadataSize);

    internal static long AllocationSize(long dataSize, int metadataSize) =>
        Math.Max(ArenaAllocator.Alignment, ArenaAllocator.AlignUp(metadataSize) + ArenaAllocator.AlignUp(dataSize));
}

/// <summary>The life-cycle state of a stored object.</summary>
public enum ObjectState
{
    /// <summary>Reserved; its writer has not sealed it yet. Not readable.</summary>
    Unsealed,

    /// <summary>Sealed, immutable and in shared memory.</summary>
    Sealed,

    /// <summary>Sealed and moved to the spill directory; restored on the next pin.</summary>
    Spilled,
}

/// <summary>What the store knows about one object.</summary>
/// <param name="State">Unsealed, sealed (in memory) or spilled.</param>
/// <param name="DataSize">Bytes of data.</param>
/// <param name="MetadataSize">Bytes of metadata.</param>
/// <param name="PinCount">Readers currently holding the object in memory.</param>
public readonly record struct ObjectInfo(ObjectState State, long DataSize, int MetadataSize, int PinCount);

/// <summary>A consistent snapshot of the store's accounting.</summary>
/// <param name="CapacityBytes">Size of the shared-memory arena.</param>
/// <param name="UsedBytes">Arena bytes held by objects (each rounded up to 64 bytes).</param>
/// <param name="ObjectCount">Objects in the store, in memory or spilled, sealed or not.</param>
/// <param name="PinnedCount">Objects with at least one reader pin.</param>
/// <param name="PinnedBytes">Arena bytes of pinned objects (never spilled).</param>
/// <param name="SpilledCount">Objects currently spilled to disk.</param>
/// <param name="SpilledBytes">Bytes currently spilled to disk.</param>
/// <param name="SpillCapacityBytes">The spill budget.</param>
/// <param name="TotalSpills">Objects spilled since the store started.</param>
/// <param name="TotalRestores">Objects restored from disk since the store started.</param>
public readonly record struct ObjectStoreStats(
    long CapacityBytes,
    long UsedBytes,
    int ObjectCount,
    int PinnedCount,
    long PinnedBytes,
    int SpilledCount,
    long SpilledBytes,
    long SpillCapacityBytes,
    long TotalSpills,
    long TotalRestores);
