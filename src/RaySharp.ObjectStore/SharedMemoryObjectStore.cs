using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace RaySharp.ObjectStore;

/// <summary>
/// The node-side object store: one shared-memory arena file (<c>/dev/shm/raysharp-store-&lt;name&gt;/arena</c>)
/// that every process on the node maps, an allocator over it, and the objects' life cycle — reserve,
/// write in place, seal (immutable after), pin/release by readers, delete. When a reservation does not fit,
/// the least-recently-used unpinned sealed objects are spilled to a local disk directory and restored on
/// their next pin. Thread-safe. It is also the in-process <see cref="IObjectStoreControl{TKey}"/>.
/// </summary>
/// <typeparam name="TKey">The object id; its formatted text names spill files.</typeparam>
public sealed unsafe class SharedMemoryObjectStore<TKey> : IObjectStoreControl<TKey>, IDisposable
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    /// <summary>Name of the arena file inside <see cref="Directory"/>.</summary>
    public const string ArenaFileName = "arena";

    /// <summary>
    /// Present in <see cref="Directory"/> when the arena was preallocated: every page is resident, so a
    /// client fills its page tables for the whole mapping up front instead of faulting page by page.
    /// </summary>
    public const string PreallocatedMarkerFileName = "preallocated";

    private const int SpillChunk = 1 << 30;
    private const string StorePrefix = "raysharp-store-";
    private const string SpillPrefix = "raysharp-spill-";

    private readonly Lock _gate = new();
    private readonly Dictionary<TKey, Entry> _objects = [];
    private readonly LinkedList<Entry> _lru = []; // sealed, in memory, not deleted; least recent first
    private readonly ArenaAllocator _allocator;
    private readonly string _spillDirectory;
    private readonly long _spillCapacity;
    private byte* _arena;
    private long _pinnedBytes;
    private int _pinnedCount;
    private long _spilledBytes;
    private int _spilledCount;
    private long _totalSpills;
    private long _totalRestores;

    /// <summary>Creates the store's shared-memory folder and arena, and its spill folder.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message says which and why.</exception>
    public SharedMemoryObjectStore(ObjectStoreOptions? options = null)
    {
        Native.EnsureLinux();
        options ??= new ObjectStoreOptions();
        var name = options.Name ?? $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..20];
        ObjectKeys.ValidateName(name, $"The store name '{name}'", nameof(options));
        if (!System.IO.Directory.Exists(options.SharedMemoryRoot))
            throw new ArgumentException($"SharedMemoryRoot '{options.SharedMemoryRoot}' does not exist; use a tmpfs mount such as /dev/shm.", nameof(options));

        var shmFree = new DriveInfo(options.SharedMemoryRoot).AvailableFreeSpace;
        var capacity = options.CapacityBytes;
        if (capacity == 0)
            capacity = Math.Min(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 3 / 10, shmFree - (2L << 30));
        if (capacity < 4096)
            throw new ArgumentException($"CapacityBytes is {capacity:N0}; the store needs at least 4,096 bytes (and {options.SharedMemoryRoot} has {shmFree:N0} free).", nameof(options));
        if (capacity > shmFree)
            throw new ArgumentException(
                $"CapacityBytes is {capacity:N0} but {options.SharedMemoryRoot} has only {shmFree:N0} bytes free; lower the capacity or enlarge the tmpfs mount.", nameof(options));
        _spillCapacity = options.SpillCapacityBytes == 0 ? capacity * 4 : options.SpillCapacityBytes;
        if (_spillCapacity < 0)
            throw new ArgumentException($"SpillCapacityBytes is {_spillCapacity:N0}; use 0 for the default or a positive budget.", nameof(options));

        var spillRoot = options.SpillDirectory ?? Path.GetTempPath();
        RemoveFoldersOfDeadStores(options.SharedMemoryRoot, StorePrefix);
        RemoveFoldersOfDeadStores(spillRoot, SpillPrefix);
        Directory = Path.Combine(options.SharedMemoryRoot, StorePrefix + name);
        _spillDirectory = Path.Combine(spillRoot, SpillPrefix + name);
        if (System.IO.Directory.Exists(Directory))
            throw new ArgumentException($"The store folder '{Directory}' already exists: another store uses the name '{name}'. Pick another Name.", nameof(options));
        System.IO.Directory.CreateDirectory(Directory);
        try
        {
            System.IO.Directory.CreateDirectory(_spillDirectory);
            _allocator = new ArenaAllocator(capacity);
            var path = Path.Combine(Directory, ArenaFileName);
            using (var file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
            {
                RandomAccess.SetLength(file, _allocator.Capacity);
                _arena = Native.Map(file, _allocator.Capacity, writable: true, path);
            }
            if (options.Preallocate)
            {
                Native.Populate(_arena, _allocator.Capacity);
                File.Create(Path.Combine(Directory, PreallocatedMarkerFileName)).Dispose();
            }
        }
        catch
        {
            DeleteFolders();
            throw;
        }
    }

    /// <summary>The store's folder in shared memory; clients map <c>Directory/arena</c>.</summary>
    public string Directory { get; }

    /// <summary>Arena size in bytes (the configured capacity rounded down to 64).</summary>
    public long CapacityBytes => _allocator.Capacity;

    /// <summary>A consistent snapshot of the accounting.</summary>
    public ObjectStoreStats GetStats()
    {
        lock (_gate)
        {
            return new ObjectStoreStats(_allocator.Capacity, _allocator.Capacity - _allocator.FreeBytes, _objects.Count,
                _pinnedCount, _pinnedBytes, _spilledCount, _spilledBytes, _spillCapacity, _totalSpills, _totalRestores);
        }
    }

    /// <summary>Keys and descriptions of every object the store holds (for status listings).</summary>
    public IReadOnlyList<KeyValuePair<TKey, ObjectInfo>> List()
    {
        lock (_gate)
            return [.. _objects.Where(o => !o.Value.Deleted).Select(o => KeyValuePair.Create(o.Key, o.Value.Info))];
    }

    /// <inheritdoc cref="IObjectStoreControl{TKey}.ReserveAsync"/>
    public ObjectLocation Reserve(TKey key, long dataSize, int metadataSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dataSize);
        ArgumentOutOfRangeException.ThrowIfNegative(metadataSize);
        var fileName = ObjectKeys.FileName(key);
        var size = ObjectLocation.AllocationSize(dataSize, metadataSize);
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_objects.TryGetValue(key, out var existing))
            {
                throw new ObjectStoreException(ObjectStoreError.AlreadyExists, existing.Deleted
                    ? $"Object {fileName} was deleted but {existing.Pins} reader(s) still hold it; objects are written once, so use a new key."
                    : $"Object {fileName} already exists ({existing.State}); objects are written once, so use a new key.");
            }
            if (size > _allocator.Capacity)
            {
                throw new ObjectStoreFullException(ObjectStoreError.TooLarge,
                    $"Object {fileName} needs {size:N0} bytes but the object store holds at most {_allocator.Capacity:N0} " +
                    $"(spill budget {_spillCapacity:N0} bytes); an object must fit in shared memory to be written. " +
                    "Raise the object store capacity or split the value into smaller objects.");
            }
            var entry = new Entry(fileName) { DataSize = dataSize, MetadataSize = metadataSize, Allocated = size };
            entry.Offset = MakeRoom(size, fileName);
            _objects.Add(key, entry);
            return entry.Location;
        }
    }

    /// <inheritdoc cref="IObjectStoreControl{TKey}.SealAsync"/>
    public void Seal(TKey key, long dataSize)
    {
        lock (_gate)
        {
            var entry = Find(key);
            if (entry.State != ObjectState.Unsealed)
                throw new ObjectStoreException(ObjectStoreError.InvalidState, $"Object {entry.FileName} is already sealed; a sealed object is immutable, so seal it once.");
            if (dataSize < 0 || dataSize > entry.DataSize)
                throw new ObjectStoreException(ObjectStoreError.InvalidState,
                    $"Object {entry.FileName} was reserved with {entry.DataSize:N0} data bytes; it cannot be sealed with {dataSize:N0}. Seal at most the reserved size.");
            var allocated = ObjectLocation.AllocationSize(dataSize, entry.MetadataSize);
            if (allocated < entry.Allocated)
                _allocator.Free(entry.Offset + allocated, entry.Allocated - allocated);
            entry.Allocated = allocated;
            entry.DataSize = dataSize;
            entry.State = ObjectState.Sealed;
            _lru.AddLast(entry.LruNode);
        }
    }

    /// <inheritdoc cref="IObjectStoreControl{TKey}.PinAsync"/>
    public ObjectLocation Pin(TKey key)
    {
        lock (_gate)
        {
            var entry = Find(key);
            if (entry.State == ObjectState.Unsealed)
                throw new ObjectStoreException(ObjectStoreError.InvalidState, $"Object {entry.FileName} is not sealed yet; read it after its writer seals it.");
            if (entry.State == ObjectState.Spilled)
                Restore(entry);
            if (entry.Pins++ == 0)
            {
                _pinnedCount++;
                _pinnedBytes += entry.Allocated;
            }
            _lru.Remove(entry.LruNode);
            _lru.AddLast(entry.LruNode);
            return entry.Location;
        }
    }

    /// <inheritdoc cref="IObjectStoreControl{TKey}.ReleaseAsync"/>
    public void Release(TKey key)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_objects.TryGetValue(key, out var entry))
                throw NotFound(key);
            if (entry.Pins == 0)
                throw new ObjectStoreException(ObjectStoreError.InvalidState, $"Object {entry.FileName} is not pinned; release only what you pinned, once per pin.");
            if (--entry.Pins == 0)
            {
                _pinnedCount--;
                _pinnedBytes -= entry.Allocated;
                if (entry.Deleted)
                    Remove(key, entry);
            }
        }
    }

    /// <inheritdoc cref="IObjectStoreControl{TKey}.DeleteAsync"/>
    public bool Delete(TKey key)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!_objects.TryGetValue(key, out var entry) || entry.Deleted)
                return false;
            if (entry.Pins > 0)
            {
                entry.Deleted = true;
                if (entry.LruNode is { List: not null })
                    _lru.Remove(entry.LruNode);
            }
            else
            {
                Remove(key, entry);
            }
            return true;
        }
    }

    /// <inheritdoc cref="IObjectStoreControl{TKey}.LookupAsync"/>
    public ObjectInfo? Lookup(TKey key)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return _objects.TryGetValue(key, out var entry) && !entry.Deleted ? entry.Info : null;
        }
    }

    ValueTask<ObjectLocation> IObjectStoreControl<TKey>.ReserveAsync(TKey key, long dataSize, int metadataSize, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Reserve(key, dataSize, metadataSize));

    ValueTask IObjectStoreControl<TKey>.SealAsync(TKey key, long dataSize, CancellationToken cancellationToken)
    {
        Seal(key, dataSize);
        return ValueTask.CompletedTask;
    }

    ValueTask<ObjectLocation> IObjectStoreControl<TKey>.PinAsync(TKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Pin(key));

    ValueTask IObjectStoreControl<TKey>.ReleaseAsync(TKey key, CancellationToken cancellationToken)
    {
        Release(key);
        return ValueTask.CompletedTask;
    }

    ValueTask<bool> IObjectStoreControl<TKey>.DeleteAsync(TKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Delete(key));

    ValueTask<ObjectInfo?> IObjectStoreControl<TKey>.LookupAsync(TKey key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Lookup(key));

    /// <summary>Unmaps the arena and removes the store's shared-memory and spill folders.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_arena == null)
                return;
            Native.Unmap(_arena, _allocator.Capacity);
            _arena = null;
            _objects.Clear();
            _lru.Clear();
            DeleteFolders();
        }
    }

    private long MakeRoom(long size, string forWhat)
    {
        while (true)
        {
            var offset = _allocator.TryAllocate(size);
            if (offset >= 0)
                return offset;
            Entry? victim = null;
            for (var node = _lru.First; node is not null; node = node.Next)
            {
                if (node.Value.Pins == 0)
                {
                    victim = node.Value;
                    break;
                }
            }
            var spillSize = victim is null ? 0 : victim.DataSize + victim.MetadataSize;
            if (victim is null || _spilledBytes + spillSize > _spillCapacity)
            {
                throw new ObjectStoreFullException(ObjectStoreError.Full,
                    $"Object {forWhat} needs {size:N0} bytes but the object store ({_allocator.Capacity:N0} bytes) has " +
                    $"{_allocator.FreeBytes:N0} free (largest free block {_allocator.LargestFreeBlock:N0}); {_pinnedBytes:N0} bytes are pinned by readers, " +
                    $"{UnsealedBytes():N0} are being written, and {_spilledBytes:N0} of the {_spillCapacity:N0}-byte spill budget are used" +
                    (victim is null ? " with nothing left to spill" : $" (spilling the next object needs {spillSize:N0} more)") +
                    ". Release views and delete objects you no longer need, or raise the capacity or the spill budget.");
            }
            Spill(victim);
        }
    }

    private long UnsealedBytes() => _objects.Values.Where(e => e.State == ObjectState.Unsealed).Sum(e => e.Allocated);

    private void Spill(Entry entry)
    {
        var path = Path.Combine(_spillDirectory, entry.FileName);
        using (var file = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.None, FileOptions.None, entry.DataSize + entry.MetadataSize))
        {
            Copy(file, entry.Offset, 0, entry.MetadataSize, toFile: true);
            Copy(file, entry.Location.DataOffset, entry.MetadataSize, entry.DataSize, toFile: true);
        }
        _allocator.Free(entry.Offset, entry.Allocated);
        _lru.Remove(entry.LruNode);
        entry.Offset = -1;
        entry.State = ObjectState.Spilled;
        _spilledBytes += entry.DataSize + entry.MetadataSize;
        _spilledCount++;
        _totalSpills++;
    }

    private void Restore(Entry entry)
    {
        // The object leaves the spill budget as it comes back, so spilling others to make room for it may use its share.
        _spilledBytes -= entry.DataSize + entry.MetadataSize;
        try
        {
            entry.Offset = MakeRoom(entry.Allocated, entry.FileName);
        }
        catch
        {
            _spilledBytes += entry.DataSize + entry.MetadataSize;
            throw;
        }
        var path = Path.Combine(_spillDirectory, entry.FileName);
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read))
        {
            Copy(file, entry.Offset, 0, entry.MetadataSize, toFile: false);
            Copy(file, entry.Location.DataOffset, entry.MetadataSize, entry.DataSize, toFile: false);
        }
        File.Delete(path);
        entry.State = ObjectState.Sealed;
        _lru.AddLast(entry.LruNode);
        _spilledCount--;
        _totalRestores++;
    }

    private void Copy(SafeFileHandle file, long arenaOffset, long fileOffset, long length, bool toFile)
    {
        for (long done = 0; done < length;)
        {
            var chunk = (int)Math.Min(SpillChunk, length - done);
            var memory = new Span<byte>(_arena + arenaOffset + done, chunk);
            if (toFile)
            {
                RandomAccess.Write(file, memory, fileOffset + done);
                done += chunk;
            }
            else
            {
                var read = RandomAccess.Read(file, memory, fileOffset + done);
                if (read == 0)
                    throw new IOException($"Spill file {file} ended early: expected {length:N0} bytes at {fileOffset:N0}.");
                done += read;
            }
        }
    }

    private void Remove(TKey key, Entry entry)
    {
        _objects.Remove(key);
        if (entry.LruNode is { List: not null })
            _lru.Remove(entry.LruNode);
        if (entry.State == ObjectState.Spilled)
        {
            File.Delete(Path.Combine(_spillDirectory, entry.FileName));
            _spilledBytes -= entry.DataSize + entry.MetadataSize;
            _spilledCount--;
        }
        else
        {
            _allocator.Free(entry.Offset, entry.Allocated);
        }
    }

    private Entry Find(TKey key)
    {
        ThrowIfDisposed();
        return _objects.TryGetValue(key, out var entry) && !entry.Deleted ? entry : throw NotFound(key);
    }

    private static ObjectStoreException NotFound(TKey key) => new(ObjectStoreError.NotFound,
        $"Object {key.ToString(null, CultureInfo.InvariantCulture)} is not in the object store: it was never created, or was deleted. Check the key.");

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_arena == null, this);

    /// <summary>
    /// A store that crashed leaves its folders behind, and a tmpfs arena holds memory until it is deleted.
    /// Default-named folders (<c>&lt;prefix&gt;&lt;pid&gt;-&lt;random&gt;</c>) whose process no longer runs are removed.
    /// </summary>
    private static void RemoveFoldersOfDeadStores(string root, string prefix)
    {
        if (!System.IO.Directory.Exists(root))
            return;
        foreach (var folder in System.IO.Directory.EnumerateDirectories(root, prefix + "*"))
        {
            var rest = Path.GetFileName(folder.AsSpan())[prefix.Length..];
            var dash = rest.IndexOf('-');
            if (dash <= 0 || !int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ||
                System.IO.Directory.Exists($"/proc/{pid}"))
                continue;
            try
            {
                System.IO.Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's store, or one being removed right now: not ours to clean.
            }
        }
    }

    private void DeleteFolders()
    {
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
        if (System.IO.Directory.Exists(_spillDirectory))
            System.IO.Directory.Delete(_spillDirectory, recursive: true);
    }

    private sealed class Entry
    {
        public Entry(string fileName)
        {
            FileName = fileName;
            LruNode = new LinkedListNode<Entry>(this);
        }

        public string FileName { get; }
        public LinkedListNode<Entry> LruNode { get; }
        public ObjectState State { get; set; }
        public long Offset { get; set; }
        public long DataSize { get; set; }
        public int MetadataSize { get; set; }
        public long Allocated { get; set; }
        public int Pins { get; set; }
        public bool Deleted { get; set; }

        public ObjectLocation Location => new(Offset, DataSize, MetadataSize);
        public ObjectInfo Info => new(State, DataSize, MetadataSize, Pins);
    }
}
