namespace RaySharp.ObjectStore.Tests;

public sealed class SpillingTests
{
    [Fact]
    public async Task Filling_past_capacity_spills_the_least_recently_used_and_restores_identical_bytes()
    {
        using var f = new StoreFixture(capacity: 64 * 1024);
        var payloads = Enumerable.Range(0, 10).Select(i => StoreFixture.Pattern(16 * 1024, i)).ToArray();
        for (var i = 0; i < payloads.Length; i++)
            await f.Client.PutAsync(new TestKey(i), payloads[i]);

        var stats = f.Store.GetStats();
        Assert.Equal(6, stats.SpilledCount);
        Assert.Equal(6 * 16 * 1024, stats.SpilledBytes);
        Assert.Equal(ObjectState.Spilled, f.Store.Lookup(new TestKey(0))!.Value.State);
        Assert.Equal(ObjectState.Sealed, f.Store.Lookup(new TestKey(9))!.Value.State);

        for (var i = 0; i < payloads.Length; i++)
            Assert.Equal(payloads[i], await f.ReadAsync(new TestKey(i)));
        Assert.True(f.Store.GetStats().TotalRestores >= 6);
        Assert.Equal(10, f.Store.GetStats().ObjectCount);
    }

    [Fact]
    public async Task Pinned_objects_are_never_spilled()
    {
        using var f = new StoreFixture(capacity: 64 * 1024);
        await f.Client.PutAsync(new TestKey(100), StoreFixture.Pattern(16 * 1024, 100));
        await using var pinned = await f.Client.GetAsync(new TestKey(100));

        for (var i = 0; i < 12; i++)
            await f.Client.PutAsync(new TestKey(i), StoreFixture.Pattern(16 * 1024, i));

        Assert.Equal(ObjectState.Sealed, f.Store.Lookup(new TestKey(100))!.Value.State);
        Assert.Equal(StoreFixture.Pattern(16 * 1024, 100), pinned.Data.ToArray());
        Assert.Equal(1, f.Store.GetStats().PinnedCount);
        Assert.Equal(16 * 1024, f.Store.GetStats().PinnedBytes);
    }

    [Fact]
    public async Task Deleting_a_spilled_object_removes_its_file_and_accounting()
    {
        using var f = new StoreFixture(capacity: 16 * 1024);
        await f.Client.PutAsync(new TestKey(1), new byte[10_000]);
        await f.Client.PutAsync(new TestKey(2), new byte[10_000]);
        Assert.Equal(ObjectState.Spilled, f.Store.Lookup(new TestKey(1))!.Value.State);

        Assert.True(f.Store.Delete(new TestKey(1)));

        var stats = f.Store.GetStats();
        Assert.Equal((0, 0L, 1), (stats.SpilledCount, stats.SpilledBytes, stats.ObjectCount));
        Assert.Empty(Directory.GetFiles(Directory.GetDirectories(f.SpillRoot).Single()));
    }

    [Fact]
    public async Task An_object_larger_than_the_store_is_a_clear_error_with_sizes()
    {
        using var f = new StoreFixture(capacity: 64 * 1024);

        var error = await Assert.ThrowsAsync<ObjectStoreFullException>(() => f.Client.CreateAsync(new TestKey(1), 100_000).AsTask());

        Assert.Equal(ObjectStoreError.TooLarge, error.Error);
        Assert.Contains("100,032 bytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("65,536", error.Message, StringComparison.Ordinal);
        Assert.Contains("Raise the object store capacity", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, f.Store.GetStats().UsedBytes);
    }

    [Fact]
    public async Task When_pinned_objects_leave_no_room_the_error_says_so_and_the_store_keeps_working()
    {
        using var f = new StoreFixture(capacity: 32 * 1024);
        await f.Client.PutAsync(new TestKey(1), new byte[20_000]);
        var view = await f.Client.GetAsync(new TestKey(1));

        var error = await Assert.ThrowsAsync<ObjectStoreFullException>(() => f.Client.PutAsync(new TestKey(2), new byte[20_000]).AsTask());

        Assert.Equal(ObjectStoreError.Full, error.Error);
        Assert.Contains("20,032 bytes are pinned", error.Message, StringComparison.Ordinal);
        await view.DisposeAsync();
        await f.Client.PutAsync(new TestKey(2), new byte[20_000]);
        Assert.Equal(ObjectState.Spilled, f.Store.Lookup(new TestKey(1))!.Value.State);
    }

    [Fact]
    public async Task When_the_spill_budget_is_used_up_a_create_fails_with_the_budget_in_the_message()
    {
        using var f = new StoreFixture(capacity: 16 * 1024, spillCapacity: 12 * 1024);
        await f.Client.PutAsync(new TestKey(1), new byte[10_000]);
        await f.Client.PutAsync(new TestKey(2), new byte[10_000]);

        var error = await Assert.ThrowsAsync<ObjectStoreFullException>(() => f.Client.PutAsync(new TestKey(3), new byte[10_000]).AsTask());

        Assert.Equal(ObjectStoreError.Full, error.Error);
        Assert.Contains("12,288-byte spill budget", error.Message, StringComparison.Ordinal);
        Assert.Equal(new byte[10_000], await f.ReadAsync(new TestKey(1)));
    }
}
