using System.Runtime.CompilerServices;
using RaySharp.ObjectStore;

namespace RaySharp.Tests;

/// <summary>Large values through the node's shared-memory store, on a cluster with a small (16 MiB) store.</summary>
public sealed class ObjectStoreTests : IAsyncLifetime
{
    private const int Floats = 1 << 19; // 2 MiB per array
    private Ray _ray = null!;

    public async Task InitializeAsync() => _ray = await Ray.InitAsync(new RayOptions { NumCpus = 2, ObjectStoreBytes = 16 << 20 });

    public async Task DisposeAsync() => await _ray.DisposeAsync();

    private SharedMemoryObjectStore<ObjectId> Store => _ray.OwnedHead!.ObjectStore;

    private static float[] Filled(float value)
    {
        var array = new float[Floats];
        Array.Fill(array, value);
        return array;
    }

    [Fact]
    public async Task A_large_array_is_read_in_place_by_a_task_and_a_large_result_comes_back()
    {
        var weights = _ray.Put(Filled(0.5f));
        Assert.Equal(1, Store.GetStats().ObjectCount);
        var sum = await Within.Await(_ray.Task(Big.Sum, weights.AsMemory()).Remote().GetAsync(), "a sum over a stored array");
        Assert.Equal(Floats * 0.5, sum);
        var scaled = await Within.Await(_ray.Task(Big.Scale, weights.AsMemory(), 4f).Remote().GetAsync(), "a large result");
        Assert.Equal(Floats, scaled.Length);
        Assert.All(scaled, x => Assert.Equal(2f, x));
    }

    [Fact]
    public async Task Filling_the_store_past_its_capacity_spills_to_disk_and_restores_the_right_values()
    {
        var refs = Enumerable.Range(0, 12).Select(i => _ray.Put(Filled(i))).ToArray(); // 24 MiB into 16 MiB
        Assert.True(Store.GetStats().TotalSpills > 0, "Expected spills after 24 MiB went into a 16 MiB store.");
        for (var i = 0; i < refs.Length; i++)
        {
            var sum = await Within.Await(_ray.Task(Big.Sum, refs[i].AsMemory()).Remote().GetAsync(), $"the sum of array {i}");
            Assert.Equal((double)i * Floats, sum);
            var back = await Within.Await(refs[i].GetAsync(), $"array {i}");
            Assert.All(back, x => Assert.Equal(i, x));
        }
        Assert.True(Store.GetStats().TotalRestores > 0, "Expected restores when spilled arrays were read back.");
    }

    [Fact]
    public async Task Dropping_every_ref_returns_the_store_to_empty()
    {
        Assert.Equal(6 * (double)Floats, await UseLargeObjectsAndForgetThem());
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the store to be empty once no ref is reachable");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private async Task<double> UseLargeObjectsAndForgetThem()
    {
        double total = 0;
        for (var i = 0; i < 3; i++)
        {
            var input = _ray.Put(Filled(1));
            var doubled = _ray.Task(Big.Scale, input.AsMemory(), 1f).Remote();
            total += await _ray.Task(Big.SumArray, doubled).Remote().GetAsync() + (await doubled.GetAsync()).Length;
        }
        Assert.True(Store.GetStats().ObjectCount > 0);
        return total;
    }

    [Fact]
    public void A_value_larger_than_the_store_is_an_ObjectStoreFullException_a_RayException_that_says_it_never_fits()
    {
        RayException error = Assert.Throws<RaySharp.ObjectStoreFullException>(() => _ray.Put(new byte[100 << 20]));
        var full = (RaySharp.ObjectStoreFullException)error;
        Assert.True(full.NeverFits);
        Assert.Contains("104,857,600 bytes", full.Message);
        Assert.Equal(ObjectStoreError.TooLarge, Assert.IsAssignableFrom<ObjectStoreException>(full.InnerException).Error);
        Assert.Equal(3, _ray.Task(Work.Add, 1, 2).Remote().Get(Within.Timeout));
    }

    [Fact]
    public async Task A_task_result_larger_than_the_store_fails_its_ref_with_ObjectStoreFullException()
    {
        var huge = _ray.Task(Big.Zeros, 100 << 20).Remote();
        var error = await Assert.ThrowsAsync<RaySharp.ObjectStoreFullException>(async () => await huge.GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.True(error.NeverFits);
        Assert.Contains("Big.Zeros", error.Message);
        Assert.Equal(3, await Within.Await(_ray.Task(Work.Add, 1, 2).Remote().GetAsync(), "a task after the failed one"));
    }
}

internal static class Big
{
    public static double Sum(ReadOnlyMemory<float> values)
    {
        double sum = 0;
        foreach (var v in values.Span)
            sum += v;
        return sum;
    }

    public static double SumArray(float[] values) => values.Sum(v => (double)v);

    public static byte[] Zeros(int length) => new byte[length];

    public static float[] Scale(ReadOnlyMemory<float> values, float factor)
    {
        var result = new float[values.Length];
        var span = values.Span;
        for (var i = 0; i < result.Length; i++)
            result[i] = span[i] * factor;
        return result;
    }
}
