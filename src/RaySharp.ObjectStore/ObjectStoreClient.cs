using System.Globalization;

namespace RaySharp.ObjectStore;

/// <summary>
/// Reads and writes objects of a node's store from any process on the node. The client maps the store's
/// arena once — read-only for views, read-write (on first create) for writers — and talks to the store
/// only through <see cref="IObjectStoreControl{TKey}"/>; payload bytes are never copied through it.
/// Thread-safe.
/// </summary>
/// <example>
/// <code>
/// using var store = new SharedMemoryObjectStore&lt;ObjectId&gt;(new ObjectStoreOptions { CapacityBytes = 1L &lt;&lt; 30 });
/// using var client = new ObjectStoreClient&lt;ObjectId&gt;(store, store.Directory);
/// await using (var writer = await client.CreateAsync(id, dataSize: 4 * 1000))
/// {
///     writer.GetData&lt;float&gt;().Span.Fill(1f);   // written in shared memory
///     await writer.SealAsync();
/// }
/// await using var view = await client.GetAsync(id);
/// ReadOnlyMemory&lt;float&gt; values = view.GetData&lt;float&gt;(); // no copy
/// </code>
/// </example>
/// <typeparam name="TKey">The object id.</typeparam>
public sealed class ObjectStoreClient<TKey> : IDisposable
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    private readonly string _arenaPath;
    private readonly bool _populate;
    private readonly Lock _gate = new();
    private readonly ArenaMapping _readMapping;
    private ArenaMapping? _writeMapping;
    private bool _disposed;

    /// <summary>
    /// Maps the arena of the store in <paramref name="storeDirectory"/> read-only (and, for a preallocated
    /// store, fills the page tables of the whole mapping now, so first reads and writes do not fault).
    /// </summary>
    /// <param name="control">The store itself in its own process, or the runtime's transport to it.</param>
    /// <param name="storeDirectory">The store's <see cref="SharedMemoryObjectStore{TKey}.Directory"/>.</param>
    public ObjectStoreClient(IObjectStoreControl<TKey> control, string storeDirectory)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentException.ThrowIfNullOrEmpty(storeDirectory);
        Native.EnsureLinux();
        Control = control;
        _arenaPath = Path.Combine(storeDirectory, SharedMemoryObjectStore<TKey>.ArenaFileName);
        _populate = File.Exists(Path.Combine(storeDirectory, SharedMemoryObjectStore<TKey>.PreallocatedMarkerFileName));
        _readMapping = ArenaMapping.Open(_arenaPath, writable: false, _populate);
    }

    /// <summary>The control interface this client uses.</summary>
    public IObjectStoreControl<TKey> Control { get; }

    /// <summary>
    /// Reserves a new object of <paramref name="dataSize"/> data bytes (and optional metadata) and returns a
    /// writer over its memory. Seal it when written; dispose it unsealed to abort.
    /// </summary>
    public async ValueTask<ObjectWriter<TKey>> CreateAsync(TKey key, long dataSize, int metadataSize = 0, CancellationToken cancellationToken = default)
    {
        var mapping = AcquireWriteMapping();
        try
        {
            var location = await Control.ReserveAsync(key, dataSize, metadataSize, cancellationToken).ConfigureAwait(false);
            mapping.CheckBounds(location, KeyText(key));
            return new ObjectWriter<TKey>(Control, mapping, key, location);
        }
        catch
        {
            mapping.Release();
            throw;
        }
    }

    /// <summary>Writes <paramref name="data"/> (and <paramref name="metadata"/>) as a new sealed object: one copy, into shared memory.</summary>
    public async ValueTask PutAsync(TKey key, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> metadata = default, CancellationToken cancellationToken = default)
    {
        var writer = await CreateAsync(key, data.Length, metadata.Length, cancellationToken).ConfigureAwait(false);
        await using (writer.ConfigureAwait(false))
        {
            data.Span.CopyTo(writer.Data.Span);
            metadata.Span.CopyTo(writer.Metadata.Span);
            await writer.SealAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Pins a sealed object (restoring it from disk if it was spilled) and returns a read-only view of it
    /// in place. Dispose the view to release the pin.
    /// </summary>
    /// <exception cref="ObjectStoreException">Unknown key, or the object is not sealed yet.</exception>
    public async ValueTask<ObjectView<TKey>> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _readMapping.AddReference();
        }
        ObjectLocation location;
        try
        {
            location = await Control.PinAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _readMapping.Release();
            throw;
        }
        try
        {
            _readMapping.CheckBounds(location, KeyText(key));
            return new ObjectView<TKey>(Control, _readMapping, key, location);
        }
        catch
        {
            _readMapping.Release();
            await Control.ReleaseAsync(key, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Drops the client's mappings. Views and writers still alive keep the memory mapped until they are
    /// disposed.
    /// </summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _readMapping.Release();
            _writeMapping?.Release();
        }
    }

    private ArenaMapping AcquireWriteMapping()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _writeMapping ??= ArenaMapping.Open(_arenaPath, writable: true, _populate);
            _writeMapping.AddReference();
            return _writeMapping;
        }
    }

    private static string KeyText(TKey key) => key.ToString(null, CultureInfo.InvariantCulture);
}
