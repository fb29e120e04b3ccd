using System.Collections.Concurrent;

namespace RaySharp.Runtime.ControlStore;

/// <summary>The control store's tables (Ray's GCS): each maps a key to an encoded record.</summary>
internal static class Tables
{
    public const string Nodes = "nodes";
    public const string Jobs = "jobs";
    public const string Actors = "actors";
    public const string Tasks = "tasks";
    public const string Objects = "objects";
}

/// <summary>
/// The cluster's control state: tables of records plus pub/sub on each table, over a pluggable storage.
/// The node writes node, job and actor records here; tools and (later) other nodes read and subscribe.
/// </summary>
internal interface IControlStore
{
    void Put(string table, string key, string record);

    string? Get(string table, string key);

    bool Delete(string table, string key);

    IReadOnlyList<KeyValuePair<string, string>> Scan(string table);

    /// <summary>Calls <paramref name="onChange"/> with (key, record or null when deleted) for each change.</summary>
    IDisposable Subscribe(string table, Action<string, string?> onChange);
}

/// <summary>The in-memory storage: one process (the head) holds the whole control state.</summary>
internal sealed class InMemoryControlStore : IControlStore
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, string>> _tables = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ImmutableSubscribers> _subscribers = new(StringComparer.Ordinal);

    private ConcurrentDictionary<string, string> Table(string name) =>
        _tables.GetOrAdd(name, static _ => new ConcurrentDictionary<string, string>(StringComparer.Ordinal));

    public void Put(string table, string key, string record)
    {
        Table(table)[key] = record;
        Publish(table, key, record);
    }

    public string? Get(string table, string key) => Table(table).TryGetValue(key, out var record) ? record : null;

    public bool Delete(string table, string key)
    {
        if (!Table(table).TryRemove(key, out _))
            return false;
        Publish(table, key, null);
        return true;
    }

    public IReadOnlyList<KeyValuePair<string, string>> Scan(string table) =>
        Table(table).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();

    public IDisposable Subscribe(string table, Action<string, string?> onChange)
    {
        _subscribers.AddOrUpdate(table, _ => new([onChange]), (_, s) => new([.. s.Handlers, onChange]));
        return new Subscription(() => _subscribers.AddOrUpdate(table, _ => new([]), (_, s) => new(s.Handlers.Where(h => h != onChange).ToArray())));
    }

    private void Publish(string table, string key, string? record)
    {
        if (_subscribers.TryGetValue(table, out var subscribers))
        {
            foreach (var handler in subscribers.Handlers)
                handler(key, record);
        }
    }

    private sealed record ImmutableSubscribers(Action<string, string?>[] Handlers);

    private sealed class Subscription(Action unsubscribe) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
                unsubscribe();
        }
    }
}
