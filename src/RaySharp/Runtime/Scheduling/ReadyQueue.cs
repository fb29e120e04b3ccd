namespace RaySharp.Runtime.Scheduling;

/// <summary>
/// The ready tasks of one queue key, oldest first: a ring buffer that also takes tasks back at the front
/// (tasks a worker handed back unstarted go before everything that arrived after them). Used under the
/// node lock.
/// </summary>
/// <typeparam name="T">The queued item.</typeparam>
internal sealed class ReadyQueue<T>
{
    private T[] _items = new T[16];
    private int _head;

    public int Count { get; private set; }

    public T Peek() => Count > 0 ? _items[_head] : throw new InvalidOperationException("The ready queue is empty.");

    public void Enqueue(T item)
    {
        Grow();
        _items[(_head + Count) % _items.Length] = item;
        Count++;
    }

    /// <summary>Puts <paramref name="item"/> first (a task handed back goes before later arrivals).</summary>
    public void PushFront(T item)
    {
        Grow();
        _head = (_head - 1 + _items.Length) % _items.Length;
        _items[_head] = item;
        Count++;
    }

    public T Dequeue()
    {
        var item = Peek();
        _items[_head] = default!;
        _head = (_head + 1) % _items.Length;
        Count--;
        return item;
    }

    private void Grow()
    {
        if (Count < _items.Length)
            return;
        var bigger = new T[_items.Length * 2];
        for (var i = 0; i < Count; i++)
            bigger[i] = _items[(_head + i) % _items.Length];
        _items = bigger;
        _head = 0;
    }
}
