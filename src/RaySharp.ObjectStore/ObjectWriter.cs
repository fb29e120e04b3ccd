using System.Buffers;

namespace RaySharp.ObjectStore;

/// <summary>
/// A reserved, unsealed object being written in place in shared memory. Fill <see cref="Data"/> (or
/// <see cref="GetData{T}"/>, or use the writer as an <see cref="IBufferWriter{T}"/>) and
/// <see cref="Metadata"/>, then <see cref="SealAsync(CancellationToken)"/>. Disposing an unsealed writer
/// aborts the object (it is deleted). After sealing, the writer's memory throws on access: sealed objects
/// are immutable.
/// </summary>
/// <typeparam name="TKey">The object id.</typeparam>
public sealed class ObjectWriter<TKey> : IBufferWriter<byte>, IAsyncDisposable, IDisposable, IMappedRegionOwner
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    private readonly IObjectStoreControl<TKey> _control;
    private readonly ObjectRegion<TKey> _region;
    private readonly Lock _gate = new();
    private readonly MappedMemory<byte> _data;
    private readonly MappedMemory<byte> _metadata;
    private int _written;
    private bool _sealed;
    private bool _disposed;

    internal ObjectWriter(IObjectStoreControl<TKey> control, ArenaMapping mapping, TKey key, ObjectLocation location)
    {
        _control = control;
        _region = new ObjectRegion<TKey>(mapping, key, location);
        Key = key;
        Location = location;
        _data = _region.MapData<byte>(this, writable: true);
        _metadata = _region.MapMetadata(this, writable: true);
    }

    /// <summary>The object's key.</summary>
    public TKey Key { get; }

    /// <summary>Where the object lies in the arena (as reserved).</summary>
    public ObjectLocation Location { get; }

    /// <summary>The whole reserved data region, 64-byte aligned, in shared memory.</summary>
    public Memory<byte> Data => _data.Memory;

    /// <summary>The metadata region (empty when none was reserved).</summary>
    public Memory<byte> Metadata => _metadata.Memory;

    /// <summary>Bytes advanced through <see cref="IBufferWriter{T}"/>; seal them with <c>SealAsync(WrittenCount)</c>.</summary>
    public int WrittenCount => _written;

    /// <summary>The data region as elements of an unmanaged <typeparamref name="T"/>, in place (64-byte aligned).</summary>
    /// <exception cref="InvalidOperationException">The data size is not a multiple of the element size.</exception>
    public Memory<T> GetData<T>()
        where T : unmanaged =>
        _region.MapData<T>(this, writable: true).Memory;

    /// <inheritdoc/>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + (long)count > Location.DataSize)
            throw new InvalidOperationException($"Advancing {count:N0} bytes would pass the {Location.DataSize:N0} bytes reserved for object {KeyText()}; reserve more.");
        _written += count;
    }

    /// <inheritdoc/>
    public Memory<byte> GetMemory(int sizeHint = 0) => Remaining(sizeHint).Memory[_written..];

    /// <inheritdoc/>
    public Span<byte> GetSpan(int sizeHint = 0) => Remaining(sizeHint).GetSpan()[_written..];

    /// <summary>Seals the whole reserved data region: the object becomes immutable and readable.</summary>
    public ValueTask SealAsync(CancellationToken cancellationToken = default) => SealAsync(Location.DataSize, cancellationToken);

    /// <summary>Seals the first <paramref name="dataSize"/> bytes of data; the rest returns to the store.</summary>
    public async ValueTask SealAsync(long dataSize, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_sealed)
                throw new ObjectStoreException(ObjectStoreError.InvalidState, $"Object {KeyText()} is already sealed; seal it once.");
            _sealed = true;
        }
        try
        {
            await _control.SealAsync(Key, dataSize, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
                _sealed = false;
            throw;
        }
    }

    /// <summary>Releases the writer; an unsealed object is deleted (its creation aborted).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!MarkDisposed(out var abort))
            return;
        try
        {
            if (abort)
                await _control.DeleteAsync(Key, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _region.Mapping.Release();
        }
    }

    /// <summary>Releases the writer, waiting for an abort to reach the store when it is remote.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    void IMappedRegionOwner.CheckAccess(bool write)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_sealed)
                throw new ObjectStoreException(ObjectStoreError.InvalidState, $"Object {KeyText()} is sealed; sealed objects are immutable. Read it through a view, or write a new object.");
        }
    }

    void IMappedRegionOwner.AddPin()
    {
    }

    void IMappedRegionOwner.RemovePin()
    {
    }

    private bool MarkDisposed(out bool abort)
    {
        lock (_gate)
        {
            abort = !_sealed;
            if (_disposed)
                return false;
            _disposed = true;
            return true;
        }
    }

    private MappedMemory<byte> Remaining(int sizeHint)
    {
        if (_written + (long)Math.Max(sizeHint, 1) > Location.DataSize)
            throw new InvalidOperationException($"Object {KeyText()} has {Location.DataSize - _written:N0} of its {Location.DataSize:N0} reserved bytes left; {sizeHint:N0} were asked for. Reserve more.");
        return _data;
    }

    private string KeyText() => _region.KeyText;
}
