namespace RaySharp.ObjectStore;

/// <summary>Settings of a <see cref="SharedMemoryObjectStore{TKey}"/>; validated when the store starts.</summary>
public sealed class ObjectStoreOptions
{
    /// <summary>
    /// Size of the shared-memory arena in bytes. Default: 30% of the memory available to the process (as
    /// Ray's plasma store), at most 2 GiB below the free space of <see cref="SharedMemoryRoot"/>. The arena
    /// file is sparse: memory is committed as objects touch it and then reused.
    /// </summary>
    public long CapacityBytes { get; set; }

    /// <summary>
    /// Bytes that may be spilled to <see cref="SpillDirectory"/> at once. Default: four times
    /// <see cref="CapacityBytes"/>.
    /// </summary>
    public long SpillCapacityBytes { get; set; }

    /// <summary>
    /// Commit and map the whole arena when the store starts (as Ray's <c>preallocate_plasma_memory</c>).
    /// A page touched for the first time costs a fault and zeroing, which caps a put into fresh memory at
    /// about a tenth of memcpy here; the arena's pages stay resident once touched, so preallocating moves
    /// that cost to start-up (about 0.6 s per GiB here) and commits <see cref="CapacityBytes"/> of memory at
    /// once. Default false: memory is committed as objects first touch it.
    /// </summary>
    public bool Preallocate { get; set; }

    /// <summary>Directory under which the store creates its own folder. Default <c>/dev/shm</c>.</summary>
    public string SharedMemoryRoot { get; set; } = "/dev/shm";

    /// <summary>
    /// Local-disk directory for spilled objects; the store creates its own folder in it and removes it on
    /// dispose. Default: the system temporary directory.
    /// </summary>
    public string? SpillDirectory { get; set; }

    /// <summary>
    /// Name of the store's folder (<c>raysharp-store-&lt;name&gt;</c>); letters, digits, '-', '_' and '.'.
    /// Default: the process id and a random suffix, so several stores on one machine never collide, and
    /// a store starting later removes the folders of a default-named store whose process died.
    /// </summary>
    public string? Name { get; set; }
}
