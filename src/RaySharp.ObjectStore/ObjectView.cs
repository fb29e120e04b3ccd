namespace RaySharp.ObjectStore;

/// <summary>
/// A sealed object read in place from the read-only mapping of the store's arena: no copy. The view
/// holds a pin, so the store neither spills nor frees the object until the view is disposed (and every
/// <see cref="System.Buffers.MemoryHandle"/> taken from its memory is released). After disposal its
/// memory throws <see cref="ObjectDisposedException"/> instead of showing bytes that may belong to
/// another object.
/// </summary>
/// <typeparam name="TKey">The object id.</typeparam>
public sealed class ObjectView<TKey> : IAsyncDisposable, IDisposable, IMappedRegionOwner
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    private readonly IObjectStoreControl<TKey> _control;
    private readonly ObjectRegion<TKey> _region;
    private readonly Lock _gate = new();
    private readonly MappedMemory<byte> _data;
    private readonly MappedMemory<byte> _metadata;
    private int _handles;
    private bool _disposed;
    private bool _released;

    internal ObjectView(IObjectStoreControl<TKey> control, ArenaMapping mapping, TKey key, ObjectLocation location)
    {
        _control = control;
        _region = new ObjectRegion<TKey>(mapping, key, location);
        Key = key;
        Location = location;
        _data = _region.MapData<byte>(this, writable: false);
        _metadata = _region.MapMetadata(this, writable: false);
    }

    /// <summary>The object's key.</summary>
    public TKey Key { get; }

    /// <summary>Where the object lies in the arena.</summary>
    public ObjectLocation Location { get; }

    /// <summary>The data, in shared memory, 64-byte aligned.</summary>
    public ReadOnlyMemory<byte> Data => _data.Memory;

    /// <summary>The metadata (empty when the object has none).</summary>
    public ReadOnlyMemory<byte> Metadata => _metadata.Memory;

    /// <summary>
    /// The data as elements of an unmanaged <typeparamref name="T"/> (<c>float</c>, <c>double</c>, a
    /// blittable struct…), in place: the data region starts 64-byte aligned, so any element type is
    /// naturally aligned.
    /// </summary>
    /// <exception cref="InvalidOperationException">The data size is not a multiple of the element size.</exception>
    public ReadOnlyMemory<T> GetData<T>()
        where T : unmanaged =>
        _region.MapData<T>(this, writable: false).Memory;

    /// <summary>Releases the pin (once every memory handle taken from the view is released too).</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            if (_handles > 0 || _released)
                return;
            _released = true;
        }
        await ReleaseAsync().ConfigureAwait(false);
    }

    /// <summary>Releases the pin, waiting for the release to reach the store when it is remote.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    void IMappedRegionOwner.CheckAccess(bool write)
    {
        lock (_gate)
        {
            if (_disposed)
                throw new ObjectDisposedException(GetType().Name, $"The view of object {KeyText()} was disposed; its bytes may now hold another object. Keep the view alive while you use its memory.");
        }
    }

    void IMappedRegionOwner.AddPin()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _handles++;
        }
    }

    void IMappedRegionOwner.RemovePin()
    {
        lock (_gate)
        {
            if (--_handles > 0 || !_disposed || _released)
                return;
            _released = true;
        }
        ReleaseAsync().AsTask().GetAwaiter().GetResult();
    }

    private async ValueTask ReleaseAsync()
    {
        try
        {
            await _control.ReleaseAsync(Key, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _region.Mapping.Release();
        }
    }

    private string KeyText() => _region.KeyText;
}
