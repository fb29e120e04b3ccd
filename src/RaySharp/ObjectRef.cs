using System.Runtime.CompilerServices;
using RaySharp.Protocol;

namespace RaySharp;

/// <summary>
/// A reference to an object in the cluster: a task's (future) result, a value stored with
/// <see cref="Ray.Put{T}"/>, or the completion of a void actor method. Await it to wait for it; pass it
/// to <see cref="Ray.WaitAsync{TRef}"/>. Refs can be passed to tasks, stored inside other values and
/// returned from tasks.
/// </summary>
public class ObjectRef
{
    internal ObjectRef(ObjectId id, Ray ray)
    {
        Id = id;
        Ray = ray;
    }

    /// <summary>The object's id.</summary>
    public ObjectId Id { get; }

    internal Ray Ray { get; }

    /// <summary>Waits until the object is ready; throws the task's error if it failed.</summary>
    /// <param name="timeout">How long to wait; default forever.</param>
    /// <param name="cancellationToken">Stops waiting (the task keeps running).</param>
    public async ValueTask WaitReadyAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var value = await Ray.GetValueAsync(Id, timeout, cancellationToken).ConfigureAwait(false);
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
    internal ObjectRef(ObjectId id, Ray ray) : base(id, ray) { }

    /// <summary>Blocks until the value is ready and returns it (inside a task this lends the task's CPU out).</summary>
    /// <param name="timeout">How long to wait; default forever. <see cref="GetTimeoutException"/> after it.</param>
    /// <exception cref="RayTaskException">The task that makes the value (or one it depends on) threw.</exception>
    public T Get(TimeSpan? timeout = null)
    {
        var pending = GetAsync(timeout);
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Waits for the value and returns it.</summary>
    /// <param name="timeout">How long to wait; default forever. <see cref="GetTimeoutException"/> after it.</param>
    /// <param name="cancellationToken">Stops waiting (the task keeps running).</param>
    public async ValueTask<T> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var value = await Ray.GetValueAsync(Id, timeout, cancellationToken).ConfigureAwait(false);
        return Ray.Decode<T>(Id, value);
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
