using System.Buffers;
using System.Runtime.InteropServices;

namespace RaySharp.ObjectStore;

/// <summary>
/// The store side of one connected process (a worker, a driver): decodes control requests made by a
/// <see cref="RemoteObjectStoreControl{TKey}"/>, runs them on the store, encodes the replies, and remembers
/// what that process holds. Disposing the session — because the process exited or its connection broke —
/// releases its pins and aborts the objects it reserved but never sealed, so a crashed worker leaks
/// nothing. The runtime carries the request and reply bytes over its own transport. Thread-safe.
/// </summary>
/// <typeparam name="TKey">The object id.</typeparam>
public sealed class ObjectStoreSession<TKey> : IDisposable
    where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
{
    private readonly SharedMemoryObjectStore<TKey> _store;
    private readonly Lock _gate = new();
    private readonly Dictionary<TKey, int> _pins = [];
    private readonly HashSet<TKey> _unsealed = [];
    private bool _disposed;

    /// <summary>Creates a session of <paramref name="store"/> for one client process.</summary>
    public ObjectStoreSession(SharedMemoryObjectStore<TKey> store)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
    }

    /// <summary>Pins this session holds, over all objects.</summary>
    public int PinCount
    {
        get
        {
            lock (_gate)
                return _pins.Values.Sum();
        }
    }

    /// <summary>
    /// Executes one request and writes its reply. Store errors (unknown key, full store…) and malformed
    /// requests become error replies that <see cref="RemoteObjectStoreControl{TKey}"/> throws on the
    /// client side; this method throws only when the session is disposed.
    /// </summary>
    public void Handle(ReadOnlySpan<byte> request, IBufferWriter<byte> reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var keySize = ObjectStoreProtocol.KeySize<TKey>();
        if (request.Length < 1 + keySize)
        {
            ObjectStoreProtocol.WriteError(reply, ObjectStoreError.InvalidState, $"Malformed object store request of {request.Length} bytes; expected an operation and a {keySize}-byte key.");
            return;
        }
        var op = (ObjectStoreProtocol.Op)request[0];
        var key = MemoryMarshal.Read<TKey>(request[1..]);
        var args = request[(1 + keySize)..];
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                Execute(op, key, args, reply);
            }
        }
        catch (ObjectStoreException e)
        {
            ObjectStoreProtocol.WriteError(reply, e.Error, e.Message);
        }
        catch (ArgumentException e)
        {
            ObjectStoreProtocol.WriteError(reply, ObjectStoreError.InvalidState, e.Message);
        }
    }

    /// <summary>Releases every pin of this session and deletes the objects it left unsealed.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            try
            {
                foreach (var (key, count) in _pins)
                {
                    for (var i = 0; i < count; i++)
                        _store.Release(key);
                }
                foreach (var key in _unsealed)
                    _store.Delete(key);
            }
            catch (ObjectDisposedException)
            {
                // The store went first: nothing is left to release.
            }
            _pins.Clear();
            _unsealed.Clear();
        }
    }

    private void Execute(ObjectStoreProtocol.Op op, TKey key, ReadOnlySpan<byte> args, IBufferWriter<byte> reply)
    {
        switch (op)
        {
            case ObjectStoreProtocol.Op.Reserve when args.Length == 12:
                var location = _store.Reserve(key, MemoryMarshal.Read<long>(args), MemoryMarshal.Read<int>(args[8..]));
                _unsealed.Add(key);
                ObjectStoreProtocol.WriteLocation(reply, location);
                break;
            case ObjectStoreProtocol.Op.Seal when args.Length == 8:
                _store.Seal(key, MemoryMarshal.Read<long>(args));
                _unsealed.Remove(key);
                ObjectStoreProtocol.WriteOk(reply);
                break;
            case ObjectStoreProtocol.Op.Pin when args.IsEmpty:
                var pinned = _store.Pin(key);
                _pins[key] = _pins.GetValueOrDefault(key) + 1;
                ObjectStoreProtocol.WriteLocation(reply, pinned);
                break;
            case ObjectStoreProtocol.Op.Release when args.IsEmpty:
                if (!_pins.TryGetValue(key, out var count))
                    throw new ObjectStoreException(ObjectStoreError.InvalidState, $"This process holds no pin on object {key}; release only what you pinned, once per pin.");
                _store.Release(key);
                if (count == 1)
                    _pins.Remove(key);
                else
                    _pins[key] = count - 1;
                ObjectStoreProtocol.WriteOk(reply);
                break;
            case ObjectStoreProtocol.Op.Delete when args.IsEmpty:
                _unsealed.Remove(key);
                ObjectStoreProtocol.WriteOk(reply, _store.Delete(key) ? (byte)1 : (byte)0);
                break;
            case ObjectStoreProtocol.Op.Lookup when args.IsEmpty:
                ObjectStoreProtocol.WriteInfo(reply, _store.Lookup(key));
                break;
            default:
                throw new ObjectStoreException(ObjectStoreError.InvalidState,
                    $"Malformed object store request: operation {(byte)op} with {args.Length} argument bytes. Both ends must run the same RaySharp.ObjectStore.");
        }
    }
}
