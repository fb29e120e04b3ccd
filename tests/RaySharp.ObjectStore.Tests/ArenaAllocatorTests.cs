namespace RaySharp.ObjectStore.Tests;

public sealed class ArenaAllocatorTests
{
    [Fact]
    public void Allocation_is_first_fit_from_the_lowest_address()
    {
        var arena = new ArenaAllocator(1024);
        Assert.Equal(0, arena.TryAllocate(128));
        Assert.Equal(128, arena.TryAllocate(128));
        Assert.Equal(256, arena.TryAllocate(128));
        arena.Free(0, 128);

        Assert.Equal(0, arena.TryAllocate(64));
        Assert.Equal(384, arena.TryAllocate(128));
        Assert.Equal(1024 - 64 - 384, arena.FreeBytes);
    }

    [Fact]
    public void Freed_neighbours_coalesce_into_one_block()
    {
        var arena = new ArenaAllocator(512);
        var a = arena.TryAllocate(128);
        var b = arena.TryAllocate(128);
        var c = arena.TryAllocate(128);
        arena.Free(a, 128);
        arena.Free(c, 128);
        Assert.Equal(-1, arena.TryAllocate(384));

        arena.Free(b, 128);

        Assert.Equal(512, arena.LargestFreeBlock);
        Assert.Equal(0, arena.TryAllocate(512));
    }

    [Fact]
    public void Double_free_is_detected()
    {
        var arena = new ArenaAllocator(512);
        var a = arena.TryAllocate(128);
        arena.Free(a, 128);

        Assert.Throws<InvalidOperationException>(() => arena.Free(a, 128));
    }
}
