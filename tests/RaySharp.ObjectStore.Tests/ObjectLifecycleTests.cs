using System.Buffers;
using System.Runtime.InteropServices;

namespace RaySharp.ObjectStore.Tests;

public sealed class ObjectLifecycleTests
{
    [Fact]
    public async Task Created_sealed_object_reads_back_its_data_and_metadata()
    {
        using var f = new StoreFixture();
        var data = StoreFixture.Pattern(10_000, 1);
        var metadata = "msgpack:int[]"u8.ToArray();

        await f.Client.PutAsync(new TestKey(1), data, metadata);

        await using var view = await f.Client.GetAsync(new TestKey(1));
        Assert.Equal(data, view.Data.ToArray());
        Assert.Equal(metadata, view.Metadata.ToArray());
        Assert.Equal(new ObjectInfo(ObjectState.Sealed, 10_000, metadata.Length, 1), f.Store.Lookup(new TestKey(1)));
    }

    [Fact]
    public async Task Typed_view_reads_floats_in_place_at_64_byte_alignment()
    {
        using var f = new StoreFixture();
        var values = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        await using (var writer = await f.Client.CreateAsync(new TestKey(2), values.Length * sizeof(float), metadataSize: 3))
        {
            values.CopyTo(writer.GetData<float>().Span);
            await writer.SealAsync();
        }

        await using var view = await f.Client.GetAsync(new TestKey(2));
        var typed = view.GetData<float>();
        Assert.Equal(values, typed.ToArray());
        Assert.True(MemoryMarshal.TryGetMemoryManager(typed, out MemoryManager<float>? manager), "the view should be backed by the mapping, not an array");
        Assert.Equal(0, view.Location.DataOffset % 64);
        unsafe
        {
            using var handle = typed.Pin();
            Assert.Equal(0, (long)handle.Pointer % 64);
        }
    }

    [Fact]
    public async Task View_sees_a_change_made_to_the_arena_file_so_it_reads_shared_memory_without_a_copy()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(3), new byte[4096]);
        await using var view = await f.Client.GetAsync(new TestKey(3));
        var data = view.Data;

        using (var arena = new FileStream(Path.Combine(f.Store.Directory, "arena"), FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            arena.Position = view.Location.DataOffset + 100;
            arena.Write([42, 43, 44]);
        }

        Assert.Equal(new byte[] { 42, 43, 44 }, data.Span.Slice(100, 3).ToArray());
    }

    [Fact]
    public async Task Buffer_writer_seals_only_the_bytes_written_and_returns_the_rest_to_the_store()
    {
        using var f = new StoreFixture();
        await using (var writer = await f.Client.CreateAsync(new TestKey(4), dataSize: 64 * 1024))
        {
            IBufferWriter<byte> output = writer;
            output.Write("hello "u8);
            output.Write("store"u8);
            await writer.SealAsync(writer.WrittenCount);
        }

        Assert.Equal("hello store"u8.ToArray(), await f.ReadAsync(new TestKey(4)));
        Assert.Equal(64, f.Store.GetStats().UsedBytes);
    }

    [Fact]
    public async Task Disposing_an_unsealed_writer_aborts_the_object()
    {
        using var f = new StoreFixture();
        await using (var writer = await f.Client.CreateAsync(new TestKey(5), dataSize: 1000))
            writer.Data.Span.Fill(1);

        Assert.Null(f.Store.Lookup(new TestKey(5)));
        Assert.Equal(0, f.Store.GetStats().UsedBytes);
    }

    [Fact]
    public async Task Delete_frees_the_accounting_and_the_key()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(6), new byte[5000]);
        Assert.Equal(new ObjectStoreStats(1 << 20, 5056, 1, 0, 0, 0, 0, 4 << 20, 0, 0), f.Store.GetStats());

        Assert.True(f.Store.Delete(new TestKey(6)));

        Assert.Equal(new ObjectStoreStats(1 << 20, 0, 0, 0, 0, 0, 0, 4 << 20, 0, 0), f.Store.GetStats());
        Assert.False(f.Store.Delete(new TestKey(6)));
        await f.Client.PutAsync(new TestKey(6), new byte[10]);
    }

    [Fact]
    public async Task Deleting_a_pinned_object_hides_it_at_once_and_frees_it_when_the_last_reader_releases()
    {
        using var f = new StoreFixture();
        var bytes = StoreFixture.Pattern(2000, 7);
        await f.Client.PutAsync(new TestKey(7), bytes);
        var view = await f.Client.GetAsync(new TestKey(7));

        Assert.True(f.Store.Delete(new TestKey(7)));

        Assert.Null(f.Store.Lookup(new TestKey(7)));
        Assert.Equal(bytes, view.Data.ToArray());
        Assert.Equal(2048, f.Store.GetStats().UsedBytes);
        await view.DisposeAsync();
        Assert.Equal(0, f.Store.GetStats().UsedBytes);
        Assert.Equal(0, f.Store.GetStats().ObjectCount);
    }

    [Fact]
    public async Task Zero_length_objects_are_stored_and_read()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(8), ReadOnlyMemory<byte>.Empty);

        await using var view = await f.Client.GetAsync(new TestKey(8));
        Assert.True(view.Data.IsEmpty);
        Assert.True(view.GetData<double>().IsEmpty);
    }

    [Fact]
    public async Task Store_folders_are_removed_on_dispose()
    {
        var f = new StoreFixture(capacity: 8192);
        await f.Client.PutAsync(new TestKey(1), new byte[6000]);
        await f.Client.PutAsync(new TestKey(2), new byte[6000]); // spills the first
        var shm = f.Store.Directory;
        var spill = Directory.GetDirectories(f.SpillRoot).Single();
        Assert.Single(Directory.GetFiles(spill));

        f.Client.Dispose();
        f.Store.Dispose();

        Assert.False(Directory.Exists(shm));
        Assert.False(Directory.Exists(spill));
        Directory.Delete(f.SpillRoot);
    }

    [Fact]
    public async Task Readers_and_writers_on_many_threads_leave_consistent_accounting()
    {
        using var f = new StoreFixture(capacity: 256 * 1024, spillCapacity: 64 << 20);
        await Parallel.ForAsync(0, 400, async (i, ct) =>
        {
            var bytes = StoreFixture.Pattern(1000 + i * 37, i);
            await f.Client.PutAsync(new TestKey(i), bytes, cancellationToken: ct);
            Assert.Equal(bytes, await f.ReadAsync(new TestKey(i)));
            if (i % 2 == 0)
                Assert.True(f.Store.Delete(new TestKey(i)));
        });

        var stats = f.Store.GetStats();
        Assert.Equal(200, stats.ObjectCount);
        Assert.Equal(0, stats.PinnedCount);
        var inMemory = f.Store.List().Where(o => o.Value.State == ObjectState.Sealed).Sum(o => (o.Value.DataSize + 63) / 64 * 64);
        Assert.Equal(inMemory, stats.UsedBytes);
        for (var i = 1; i < 400; i += 2)
            Assert.Equal(StoreFixture.Pattern(1000 + i * 37, i), await f.ReadAsync(new TestKey(i)));
    }
}

public sealed class StaleFolderTests
{
    [Fact]
    public void A_starting_store_removes_the_folders_of_a_store_whose_process_died_and_keeps_live_ones()
    {
        var shmRoot = Directory.CreateDirectory($"/dev/shm/raysharp-objstore-test-{Guid.NewGuid():N}").FullName;
        var spillRoot = Directory.CreateTempSubdirectory("raysharp-objstore-test-").FullName;
        try
        {
            // pid_max is at most 2^22, so this pid never runs.
            var dead = Directory.CreateDirectory(Path.Combine(shmRoot, "raysharp-store-99999999-0123abcd")).FullName;
            File.WriteAllText(Path.Combine(dead, "arena"), "stale");
            var deadSpill = Directory.CreateDirectory(Path.Combine(spillRoot, "raysharp-spill-99999999-0123abcd")).FullName;
            var live = Directory.CreateDirectory(Path.Combine(shmRoot, $"raysharp-store-{Environment.ProcessId}-4567ef")).FullName;
            var named = Directory.CreateDirectory(Path.Combine(shmRoot, "raysharp-store-mynode")).FullName;

            using var store = new SharedMemoryObjectStore<TestKey>(new ObjectStoreOptions { CapacityBytes = 8192, SharedMemoryRoot = shmRoot, SpillDirectory = spillRoot });

            Assert.False(Directory.Exists(dead));
            Assert.False(Directory.Exists(deadSpill));
            Assert.True(Directory.Exists(live));
            Assert.True(Directory.Exists(named));
        }
        finally
        {
            Directory.Delete(shmRoot, recursive: true);
            Directory.Delete(spillRoot, recursive: true);
        }
    }
}

public sealed class PreallocationTests
{
    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 4 << 20)]
    public async Task Preallocation_commits_the_whole_arena_at_start_and_objects_still_round_trip(bool preallocate, long committedAtStart)
    {
        var spillRoot = Directory.CreateTempSubdirectory("raysharp-objstore-test-").FullName;
        try
        {
            using var store = new SharedMemoryObjectStore<TestKey>(new ObjectStoreOptions { CapacityBytes = 4 << 20, Preallocate = preallocate, SpillDirectory = spillRoot });

            Assert.Equal(committedAtStart, await AllocatedBytesAsync(Path.Combine(store.Directory, "arena")));
            Assert.Equal(preallocate, File.Exists(Path.Combine(store.Directory, SharedMemoryObjectStore<TestKey>.PreallocatedMarkerFileName)));
            using var client = new ObjectStoreClient<TestKey>(store, store.Directory);
            var bytes = StoreFixture.Pattern(100_000, 3);
            await client.PutAsync(new TestKey(1), bytes);
            await using var view = await client.GetAsync(new TestKey(1));
            Assert.Equal(bytes, view.Data.ToArray());
        }
        finally
        {
            Directory.Delete(spillRoot, recursive: true);
        }
    }

    /// <summary>Bytes the file system has allocated to a (sparse) file: <c>du --block-size=1</c>.</summary>
    private static async Task<long> AllocatedBytesAsync(string path)
    {
        var start = new System.Diagnostics.ProcessStartInfo("du", ["--block-size=1", path]) { RedirectStandardOutput = true };
        using var du = System.Diagnostics.Process.Start(start)!;
        var output = await du.StandardOutput.ReadToEndAsync();
        await du.WaitForExitAsync();
        return long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
