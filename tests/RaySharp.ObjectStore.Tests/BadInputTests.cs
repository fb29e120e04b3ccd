namespace RaySharp.ObjectStore.Tests;

public sealed class BadInputTests
{
    [Fact]
    public async Task Reading_an_unknown_key_is_not_found()
    {
        using var f = new StoreFixture();

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => f.Client.GetAsync(new TestKey(99)).AsTask());

        Assert.Equal(ObjectStoreError.NotFound, error.Error);
        Assert.Contains("obj-0000000000000063", error.Message, StringComparison.Ordinal);
        Assert.Null(f.Store.Lookup(new TestKey(99)));
    }

    [Fact]
    public async Task Sealing_twice_is_an_invalid_state()
    {
        using var f = new StoreFixture();
        await using var writer = await f.Client.CreateAsync(new TestKey(1), 10);
        await writer.SealAsync();

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => writer.SealAsync().AsTask());
        Assert.Equal(ObjectStoreError.InvalidState, error.Error);
        var storeError = Assert.Throws<ObjectStoreException>(() => f.Store.Seal(new TestKey(1), 10));
        Assert.Equal(ObjectStoreError.InvalidState, storeError.Error);
    }

    [Fact]
    public async Task Writing_after_seal_is_refused()
    {
        using var f = new StoreFixture();
        await using var writer = await f.Client.CreateAsync(new TestKey(1), 10);
        var data = writer.Data;
        await writer.SealAsync();

        var error = Assert.Throws<ObjectStoreException>(() => data.Span[0] = 1);

        Assert.Equal(ObjectStoreError.InvalidState, error.Error);
        Assert.Contains("immutable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reading_before_seal_is_refused()
    {
        using var f = new StoreFixture();
        await using var writer = await f.Client.CreateAsync(new TestKey(1), 10);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => f.Client.GetAsync(new TestKey(1)).AsTask());

        Assert.Equal(ObjectStoreError.InvalidState, error.Error);
        Assert.Contains("not sealed yet", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creating_an_existing_key_is_refused()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(1), new byte[10]);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => f.Client.PutAsync(new TestKey(1), new byte[10]).AsTask());

        Assert.Equal(ObjectStoreError.AlreadyExists, error.Error);
    }

    [Fact]
    public async Task Sealing_more_than_was_reserved_is_refused()
    {
        using var f = new StoreFixture();
        await using var writer = await f.Client.CreateAsync(new TestKey(1), 10);

        var error = await Assert.ThrowsAsync<ObjectStoreException>(() => writer.SealAsync(11).AsTask());

        Assert.Equal(ObjectStoreError.InvalidState, error.Error);
        await writer.SealAsync(10);
    }

    [Fact]
    public async Task Releasing_an_object_that_is_not_pinned_is_refused()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(1), new byte[10]);

        var error = Assert.Throws<ObjectStoreException>(() => f.Store.Release(new TestKey(1)));

        Assert.Equal(ObjectStoreError.InvalidState, error.Error);
    }

    [Fact]
    public async Task Memory_of_a_disposed_view_throws_instead_of_showing_other_bytes()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(1), new byte[10]);
        var view = await f.Client.GetAsync(new TestKey(1));
        var data = view.Data;
        await view.DisposeAsync();

        Assert.Throws<ObjectDisposedException>(() => data.Span[0]);
        Assert.Equal(0, f.Store.GetStats().PinnedCount);
    }

    [Fact]
    public async Task A_memory_handle_keeps_the_pin_after_the_view_is_disposed()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(1), new byte[10]);
        var view = await f.Client.GetAsync(new TestKey(1));
        var handle = view.Data.Pin();

        await view.DisposeAsync();
        Assert.Equal(1, f.Store.GetStats().PinnedCount);
        handle.Dispose();

        Assert.Equal(0, f.Store.GetStats().PinnedCount);
    }

    [Fact]
    public async Task A_typed_view_of_a_size_that_is_not_a_whole_number_of_elements_is_refused()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(1), new byte[10]);
        await using var view = await f.Client.GetAsync(new TestKey(1));

        var error = Assert.Throws<InvalidOperationException>(() => view.GetData<double>());

        Assert.Contains("not a whole number of Double", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_that_cannot_name_a_file_is_refused()
    {
        var root = Directory.CreateTempSubdirectory("raysharp-objstore-test-").FullName;
        try
        {
            using var store = new SharedMemoryObjectStore<SlashKey>(new ObjectStoreOptions { CapacityBytes = 8192, SpillDirectory = root });

            var error = Assert.Throws<ArgumentException>(() => store.Reserve(new SlashKey(1), 10, 0));

            Assert.Contains("contains '/'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Bad_options_are_refused_with_what_to_do()
    {
        var small = Assert.Throws<ArgumentException>(() => new SharedMemoryObjectStore<TestKey>(new ObjectStoreOptions { CapacityBytes = 100 }));
        Assert.Contains("at least 4,096 bytes", small.Message, StringComparison.Ordinal);
        var huge = Assert.Throws<ArgumentException>(() => new SharedMemoryObjectStore<TestKey>(new ObjectStoreOptions { CapacityBytes = 1L << 50 }));
        Assert.Contains("lower the capacity", huge.Message, StringComparison.Ordinal);
        var name = Assert.Throws<ArgumentException>(() => new SharedMemoryObjectStore<TestKey>(new ObjectStoreOptions { Name = "../x" }));
        Assert.Contains("contains '/'", name.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_pointed_at_a_folder_without_a_store_says_so()
    {
        using var f = new StoreFixture();

        var error = Assert.Throws<ArgumentException>(() => new ObjectStoreClient<TestKey>(f.Store, "/dev/shm/no-such-raysharp-store"));

        Assert.Contains("is the store running", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_rebuilt_from_a_transport_keep_their_type_and_reason()
    {
        Assert.IsType<ObjectStoreFullException>(ObjectStoreException.Create(ObjectStoreError.Full, "m"));
        var notFound = ObjectStoreException.Create(ObjectStoreError.NotFound, "gone");
        Assert.Equal((ObjectStoreError.NotFound, "gone"), (notFound.Error, notFound.Message));
    }
}
