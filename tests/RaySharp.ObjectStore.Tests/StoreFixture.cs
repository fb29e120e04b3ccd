namespace RaySharp.ObjectStore.Tests;

/// <summary>A store and an in-process client, removed after each test.</summary>
internal sealed class StoreFixture : IDisposable
{
    public StoreFixture(long capacity = 1 << 20, long spillCapacity = 0)
    {
        SpillRoot = Directory.CreateTempSubdirectory("raysharp-objstore-test-").FullName;
        Store = new SharedMemoryObjectStore<TestKey>(new ObjectStoreOptions
        {
            CapacityBytes = capacity,
            SpillCapacityBytes = spillCapacity,
            SpillDirectory = SpillRoot,
        });
        Client = new ObjectStoreClient<TestKey>(Store, Store.Directory);
    }

    public SharedMemoryObjectStore<TestKey> Store { get; }

    public ObjectStoreClient<TestKey> Client { get; }

    public string SpillRoot { get; }

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public async Task<byte[]> ReadAsync(TestKey key)
    {
        await using var view = await Client.GetAsync(key);
        return view.Data.ToArray();
    }

    public void Dispose()
    {
        Client.Dispose();
        Store.Dispose();
        Directory.Delete(SpillRoot, recursive: true);
    }
}
