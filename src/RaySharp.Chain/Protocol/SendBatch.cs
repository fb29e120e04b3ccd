namespace RaySharp.Chain.Protocol;

/// <summary>
/// Frames sent on one thread while a read loop handles one socket read's frames, held back until those
/// frames are handled and then written by that thread, one socket write per connection
/// (<see cref="FramedConnection.Start"/> with <c>writeInline</c>). While a batch is open on a thread,
/// <see cref="FramedConnection.Send"/> queues the frame and notes the connection here instead of waking the
/// connection's writer.
/// </summary>
internal sealed class SendBatch
{
    [ThreadStatic]
    private static SendBatch? _threadCurrent;

    private readonly List<FramedConnection> _connections = [];

    /// <summary>The batch open on the calling thread, if any.</summary>
    public static SendBatch? Current => _threadCurrent;

    /// <summary>Opens <paramref name="batch"/> on the calling thread until the scope is disposed, which restores the
    /// batch it replaced; a null batch opens nothing. Disposing writes nothing (see <see cref="Flush"/>).</summary>
    public static Scope Open(SendBatch? batch)
    {
        var previous = _threadCurrent;
        if (batch is not null)
            _threadCurrent = batch;
        return new Scope(previous);
    }

    /// <summary>What <see cref="Open"/> replaced, restored on dispose.</summary>
    public readonly struct Scope(SendBatch? previous) : IDisposable
    {
        public void Dispose() => _threadCurrent = previous;
    }

    /// <summary>Notes a connection with frames queued in this batch (once per connection per flush). Only the
    /// thread the batch is open on calls this.</summary>
    public void Add(FramedConnection connection) => _connections.Add(connection);

    /// <summary>Writes what the batch queued, connection by connection, on the calling thread.</summary>
    public void Flush()
    {
        foreach (var connection in _connections)
            connection.WriteBatch();
        _connections.Clear();
    }
}
