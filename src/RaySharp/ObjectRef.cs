using System.Runtime.CompilerServices;
using RaySharp.Protocol;

namespace RaySharp;

/// <summary>
/// A reference to an object in the cluster: a task's (future) result, a value stored with
/// <see cref="Ray.Put{T}"/>, or the completion of a void actor method. Await it to wait for it; pass it
/// to <see cref="Ray.WaitAsync{TRef}"/>. Refs can be passed to tasks, stored inside other values and
/// returned from tasks.
/// </summary>
/// <remarks>
/// The object lives while any handle to it is reachable: this one, copies made when a value holding it
/// is read (in this or another process), and tasks that take it as an argument until they finish.
/// <see cref="Dispose"/> drops this handle's reference at once; otherwise the garbage collector drops it
/// when the handle is finalised, which for large values can be much later than the last use. Dispose
/// refs to large values as soon as they are no longer needed (<c>using var r = ray.Put(array);</c>), so
/// their store memory is reused by the next put.
/// </remarks>
public class ObjectRef : IDisposable
{
    private int _disposed;

    /// <param name="id">The object.</param>
    /// <param name="ray">The runtime it belongs to.</param>
    /// <param name="counted">True when the node already counted this handle (it made the object for this caller).</param>
    internal ObjectRef(ObjectId id, Ray ray, bool counted = false)
    {
        Id = id;
        Ray = ray;
        ray.Client.AddRef(id, counted);
    }

    /// <summary>Tells the node this handle is gone, so an object nothing references any more is freed.</summary>
    ~ObjectRef()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Ray.Client.DropRef(Id);
    }

    /// <summary>
    /// Drops this handle's reference to the object now, instead of when the garbage collector finalises
    /// the handle. The object is freed once no other handle, value or pending task refers to it. Calling
    /// it again does nothing; reading the value through this handle afterwards throws
    /// <see cref="ObjectDisposedException"/>. Tasks already submitted with this ref as an argument still
    /// get the value.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        GC.SuppressFinalize(this);
        Ray.Client.DropRef(Id);
    }

    /// <summary>True once <see cref="Dispose"/> was called on this handle.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Throws when this handle was disposed: its reference no longer keeps the object alive.</summary>
    internal void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(GetType().Name,
                $"The ref to object {Id} was disposed, so it can no longer be read, waited for or passed on. " +
                "Keep the ref undisposed (or another handle to the same object) while the value is still needed.");
        }
    }

    /// <summary>The object's id.</summary>
    public ObjectId Id { get; }

    internal Ray Ray { get; }

    /// <summary>Waits until the object is ready; throws the task's error if it failed.</summary>
    /// <param name="timeout">How long to wait; default forever.</param>
    /// <param name="cancellationToken">Stops waiting (the task keeps running).</param>
    /// <exception cref="ObjectDisposedException">This handle was disposed.</exception>
    public async ValueTask WaitReadyAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var value = await Ray.GetValueAsync(Id, timeout, cancellationToken).ConfigureAwait(false);
        GC.KeepAlive(this);
        if (value.Error is not null)
            throw value.Error.ToException();
    }

    /// <summary>Lets <c>await objectRef</c> wait for the object.</summary>
    public ValueTaskAwaiter GetAwaiter() => WaitReadyAsync().GetAwaiter();

    /// <inheritdoc/>
    public override string ToString() => Id.ToString();
}

/// <summary>A typed reference to an object whose value is a <typeparamref name="T"/>.</summary>
/// <typeparam name="T">The value's type.</typeparam>
public sealed class ObjectRef<T> : ObjectRef
{
    internal ObjectRef(ObjectId id, Ray ray, bool counted = false) : base(id, ray, counted) { }

    /// <summary>Blocks until the value is ready and returns it (inside a task this lends the task's CPU out).</summary>
    /// <param name="timeout">How long to wait; default forever. <see cref="GetTimeoutException"/> after it.</param>
    /// <exception cref="RayTaskException">The task that makes the value (or one it depends on) threw.</exception>
    /// <exception cref="ObjectDisposedException">This handle was disposed.</exception>
    public T Get(TimeSpan? timeout = null)
    {
        ThrowIfDisposed();
        var value = Ray.Decode<T>(Id, Ray.GetValue(Id, timeout));
        GC.KeepAlive(this); // the object (and refs inside it) must outlive the decoding
        return value;
    }

    /// <summary>Waits for the value and returns it.</summary>
    /// <param name="timeout">How long to wait; default forever. <see cref="GetTimeoutException"/> after it.</param>
    /// <param name="cancellationToken">Stops waiting (the task keeps running).</param>
    /// <exception cref="ObjectDisposedException">This handle was disposed.</exception>
    public async ValueTask<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        var value = await Ray.GetValueAsync(Id, timeout, cancellationToken).ConfigureAwait(false);
        var result = Ray.Decode<T>(Id, value);
        GC.KeepAlive(this);
        return result;
    }

    /// <summary>Lets <c>await objectRef</c> return the value.</summary>
    public new ValueTaskAwaiter<T> GetAwaiter() => GetAsync().GetAwaiter();
}

/// <summary>The result of <see cref="Ray.WaitAsync{TRef}"/>: refs that are ready and refs still pending, each in input order.</summary>
/// <typeparam name="TRef">The ref type passed in.</typeparam>
/// <param name="Ready">Refs whose objects are ready (values or errors).</param>
/// <param name="Pending">Refs whose objects are not ready yet.</param>
public sealed record WaitResult<TRef>(IReadOnlyList<TRef> Ready, IReadOnlyList<TRef> Pending)
    where TRef : ObjectRef;

/// <summary>
/// A ref to an array that a task reads as <see cref="ReadOnlyMemory{T}"/>: pass
/// <c>objectRef.AsMemory()</c> for a <c>ReadOnlyMemory&lt;T&gt;</c> parameter. An array in the node's
/// shared-memory store (over 100 KiB) is then read in place, without a copy.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
public readonly struct MemoryRef<T>
{
    internal MemoryRef(ObjectRef<T[]> array) => Array = array;

    /// <summary>The array's ref.</summary>
    public ObjectRef<T[]> Array { get; }
}

/// <summary>Conversions of <see cref="ObjectRef{T}"/>.</summary>
public static class ObjectRefExtensions
{
    /// <summary>Passes an array ref to a <c>ReadOnlyMemory&lt;T&gt;</c> task parameter (read in place).</summary>
    /// <param name="array">The array's ref.</param>
    public static MemoryRef<T> AsMemory<T>(this ObjectRef<T[]> array)
    {
        ArgumentNullException.ThrowIfNull(array);
        array.ThrowIfDisposed();
        return new MemoryRef<T>(array);
    }

    /// <summary>
    /// Waits for an array and reads it without copying it when it is a large blittable array in the
    /// node's shared-memory store (see <see cref="ArrayView{T}"/>); dispose the view when done.
    /// </summary>
    /// <param name="array">The array's ref.</param>
    /// <param name="timeout">How long to wait; default forever. <see cref="GetTimeoutException"/> after it.</param>
    /// <exception cref="ObjectDisposedException">The ref was disposed.</exception>
    public static ArrayView<T> GetView<T>(this ObjectRef<T[]> array, TimeSpan? timeout = null)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        array.ThrowIfDisposed();
        var value = array.Ray.GetValue(array.Id, timeout);
        var view = ArrayView<T>.OpenAsync(array.Ray, array.Id, value, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        GC.KeepAlive(array);
        return view;
    }

    /// <summary>Async form of <see cref="GetView{T}"/>.</summary>
    /// <param name="array">The array's ref.</param>
    /// <param name="timeout">How long to wait; default forever. <see cref="GetTimeoutException"/> after it.</param>
    /// <param name="cancellationToken">Stops waiting (the task keeps running).</param>
    /// <exception cref="ObjectDisposedException">The ref was disposed.</exception>
    public static async ValueTask<ArrayView<T>> GetViewAsync<T>(this ObjectRef<T[]> array, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(array);
        array.ThrowIfDisposed();
        var value = await array.Ray.GetValueAsync(array.Id, timeout, cancellationToken).ConfigureAwait(false);
        var view = await ArrayView<T>.OpenAsync(array.Ray, array.Id, value, cancellationToken).ConfigureAwait(false);
        GC.KeepAlive(array);
        return view;
    }
}
