using RaySharp.ObjectStore;
using RaySharp.Protocol;
using RaySharp.Runtime;

namespace RaySharp;

/// <summary>
/// An array read without copying it: for a large <c>float[]</c>, <c>double[]</c>, <c>byte[]</c>,
/// <c>int[]</c> or <c>long[]</c> (over 100 KiB) the memory is the object itself in the node's
/// shared-memory store, pinned until the view is disposed (the store neither spills nor frees it
/// meanwhile, even if every ref to it is dropped). Small arrays, which travel inline, are decoded into
/// a managed array instead (<see cref="InPlace"/> is false). Get one with
/// <see cref="ObjectRefExtensions.GetView{T}"/> or <see cref="ObjectRefExtensions.GetViewAsync{T}"/>.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ArrayView<T> : IDisposable
    where T : unmanaged
{
    private readonly ObjectView<ObjectId>? _view;

    internal ArrayView(ReadOnlyMemory<T> memory, ObjectView<ObjectId>? view)
    {
        Memory = memory;
        _view = view;
    }

    /// <summary>The elements. After <see cref="Dispose"/>, in-place memory throws <see cref="ObjectDisposedException"/> when read.</summary>
    public ReadOnlyMemory<T> Memory { get; }

    /// <summary>The elements as a span.</summary>
    public ReadOnlySpan<T> Span => Memory.Span;

    /// <summary>The number of elements.</summary>
    public int Length => Memory.Length;

    /// <summary>True when <see cref="Memory"/> is the stored object itself (no copy was made).</summary>
    public bool InPlace => _view is not null;

    /// <summary>Releases the object's pin; read nothing from <see cref="Memory"/> afterwards.</summary>
    public void Dispose() => _view?.Dispose();

    /// <summary>Reads <paramref name="id"/>'s value: in place when it is a raw array in the store, else decoded.</summary>
    internal static async ValueTask<ArrayView<T>> OpenAsync(Ray ray, ObjectId id, ObjectValue value, CancellationToken cancellationToken)
    {
        if (value.Error is not null)
            throw value.Error.ToException();
        if (!value.InStore)
            return new ArrayView<T>(ray.Decode<T[]>(id, value), null);
        ObjectView<ObjectId> view;
        try
        {
            view = await ray.Client.Store.GetAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectStoreException e) when (e.Error == ObjectStoreError.NotFound)
        {
            throw new ObjectLostException($"Object {id} is no longer in the node's object store (it was freed or its job ended): {e.Message}");
        }
        if (!ObjectValues.IsRaw(view))
        {
            using (view)
                return new ArrayView<T>(ray.Decode<T[]>(id, value), null);
        }
        try
        {
            return new ArrayView<T>(view.GetData<T>(), view);
        }
        catch (InvalidOperationException e)
        {
            view.Dispose();
            throw new InvalidCastException($"Object {id} does not hold a {typeof(T)}[]: {e.Message}", e);
        }
    }
}
