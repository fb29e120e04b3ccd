namespace RaySharp.ObjectStore;

/// <summary>
/// The control messages between an <see cref="ObjectStoreClient{TKey}"/> and the node's
/// <see cref="SharedMemoryObjectStore{TKey}"/>: reserve, seal, pin, release, delete, lookup. Bytes never
/// travel through this interface, only sizes and arena offsets; the payload is written and read in
/// shared memory. <see cref="SharedMemoryObjectStore{TKey}"/> implements it directly for a client in the
/// store's own process; the runtime implements it over its transport for clients in other processes,
/// carrying failures as (<see cref="ObjectStoreException.Error"/>, message) and rebuilding them with
/// <see cref="ObjectStoreException.Create"/>.
/// </summary>
/// <typeparam name="TKey">The object id; its formatted text names spill files.</typeparam>
public interface IObjectStoreControl<TKey>
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    /// <summary>
    /// Reserves room for a new, unsealed object, spilling least-recently-used unpinned objects to disk if
    /// needed. The caller then writes the payload at the returned location and calls <see cref="SealAsync"/>.
    /// </summary>
    /// <exception cref="ObjectStoreException">
    /// <see cref="ObjectStoreError.AlreadyExists"/>, <see cref="ObjectStoreError.TooLarge"/> or
    /// <see cref="ObjectStoreError.Full"/>.
    /// </exception>
    ValueTask<ObjectLocation> ReserveAsync(TKey key, long dataSize, int metadataSize, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes a reserved object immutable and readable. <paramref name="dataSize"/> may be smaller than the
    /// reserved data size (a writer that over-estimated); the unused tail is returned to the store.
    /// </summary>
    ValueTask SealAsync(TKey key, long dataSize, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pins a sealed object in shared memory (restoring it from disk if it was spilled) and returns where
    /// it lies. A pinned object is never spilled or freed; every pin is undone by <see cref="ReleaseAsync"/>.
    /// </summary>
    ValueTask<ObjectLocation> PinAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Undoes one <see cref="PinAsync"/>.</summary>
    ValueTask ReleaseAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes an object (sealed or not: deleting an unsealed object aborts its creation). A pinned object
    /// disappears from lookups at once and its memory is freed when the last reader releases it.
    /// Returns false when the key is unknown.
    /// </summary>
    ValueTask<bool> DeleteAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>Describes an object, or returns null when the store does not hold it.</summary>
    ValueTask<ObjectInfo?> LookupAsync(TKey key, CancellationToken cancellationToken = default);
}
