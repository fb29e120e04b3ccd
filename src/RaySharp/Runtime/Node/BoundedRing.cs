namespace RaySharp.Runtime.Node;

/// <summary>
/// The last <c>capacity</c> items added (a ring that overwrites its oldest), and how many were added in all.
/// Not thread-safe: the node uses it under its lock (the timeline, the tasks that ended).
/// </summary>
internal sealed class BoundedRing<T>(int capacity)
{
    private readonly T[] _ring = new T[capacity];

    /// <summary>Items added since the ring was made, including those it no longer holds.</summary>
    public long Total { get; private set; }

    /// <summary>Items held now.</summary>
    public int Count => (int)Math.Min(Total, _ring.Length);

    public void Add(T item) => _ring[Total++ % _ring.Length] = item;

    /// <summary>The items held, newest first.</summary>
    public IEnumerable<T> Newest()
    {
        for (var i = Total - 1; i >= Total - Count; i--)
            yield return _ring[i % _ring.Length];
    }

    /// <summary>A copy of the items held, oldest first.</summary>
    public IReadOnlyList<T> Snapshot()
    {
        var list = new List<T>(Count);
        for (var i = Total - Count; i < Total; i++)
            list.Add(_ring[i % _ring.Length]);
        return list;
    }
}
