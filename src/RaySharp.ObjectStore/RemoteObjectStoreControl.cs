using System.Buffers;

namespace RaySharp.ObjectStore;

/// <summary>
/// <see cref="IObjectStoreControl{TKey}"/> for a process other than the store's: each call is encoded as a
/// request, handed to <c>send</c> (the runtime's transport to the node's store, where an
/// <see cref="ObjectStoreSession{TKey}"/> answers it), and the reply decoded; store errors are rethrown as
/// the same <see cref="ObjectStoreException"/>s.
/// </summary>
/// <typeparam name="TKey">The object id; it travels as its raw bytes, so both ends share one machine and one key type.</typeparam>
/// <param name="send">Carries a request to the store's session and returns its reply.</param>
public sealed class RemoteObjectStoreControl<TKey>(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> send)
    : IObjectStoreControl<TKey>
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    private readonly Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> _send = send ?? throw new ArgumentNullException(nameof(send));

    /// <inheritdoc/>
    public async ValueTask<ObjectLocation> ReserveAsync(TKey key, long dataSize, int metadataSize, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(ObjectStoreProtocol.Op.Reserve, key, dataSize, metadataSize, cancellationToken).ConfigureAwait(false);
        return ObjectStoreProtocol.ReadLocation(ObjectStoreProtocol.CheckReply(reply.Span, 20));
    }

    /// <inheritdoc/>
    public async ValueTask SealAsync(TKey key, long dataSize, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(ObjectStoreProtocol.Op.Seal, key, dataSize, 0, cancellationToken).ConfigureAwait(false);
        ObjectStoreProtocol.CheckReply(reply.Span, 1);
    }

    /// <inheritdoc/>
    public async ValueTask<ObjectLocation> PinAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(ObjectStoreProtocol.Op.Pin, key, 0, 0, cancellationToken).ConfigureAwait(false);
        return ObjectStoreProtocol.ReadLocation(ObjectStoreProtocol.CheckReply(reply.Span, 20));
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(ObjectStoreProtocol.Op.Release, key, 0, 0, cancellationToken).ConfigureAwait(false);
        ObjectStoreProtocol.CheckReply(reply.Span, 1);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(ObjectStoreProtocol.Op.Delete, key, 0, 0, cancellationToken).ConfigureAwait(false);
        return ObjectStoreProtocol.CheckReply(reply.Span, 1)[0] == 1;
    }

    /// <inheritdoc/>
    public async ValueTask<ObjectInfo?> LookupAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var reply = await CallAsync(ObjectStoreProtocol.Op.Lookup, key, 0, 0, cancellationToken).ConfigureAwait(false);
        return ObjectStoreProtocol.ReadInfo(ObjectStoreProtocol.CheckReply(reply.Span, 18));
    }

    private ValueTask<ReadOnlyMemory<byte>> CallAsync(ObjectStoreProtocol.Op op, TKey key, long a, int b, CancellationToken cancellationToken)
    {
        var request = new ArrayBufferWriter<byte>(1 + ObjectStoreProtocol.KeySize<TKey>() + 12);
        ObjectStoreProtocol.WriteRequest(request, op, key, a, b);
        return _send(request.WrittenMemory, cancellationToken);
    }
}
