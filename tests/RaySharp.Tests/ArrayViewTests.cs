using RaySharp.ObjectStore;

namespace RaySharp.Tests;

/// <summary>Large arrays returned by tasks are read by the driver in place (no copy) through <c>GetView</c>.</summary>
public sealed class ArrayViewTests : IAsyncLifetime
{
    private const int Floats = 1 << 20; // 4 MiB
    private Ray _ray = null!;

    public async Task InitializeAsync() => _ray = await Ray.InitAsync(new RayOptions { NumCpus = 2, ObjectStoreBytes = 64 << 20 });

    public async Task DisposeAsync() => await _ray.DisposeAsync();

    private SharedMemoryObjectStore<ObjectId> Store => _ray.OwnedHead!.ObjectStore;

    [Fact]
    public async Task A_large_array_returned_by_a_task_is_read_in_place()
    {
        using var result = _ray.Task(Arrays.Ramp, Floats).Remote();
        using var view = await Within.Await(result.GetViewAsync(), "a large array result");
        Assert.True(view.InPlace);
        Assert.Equal(Floats, view.Length);
        Assert.Equal(0f, view.Span[0]);
        Assert.Equal(Floats - 1f, view.Span[^1]);
        Assert.Equal(result.Get(Within.Timeout), view.Span.ToArray());
    }

    [Fact]
    public void A_view_keeps_the_array_readable_after_its_ref_is_disposed_and_frees_it_when_disposed()
    {
        var result = _ray.Task(Arrays.Ramp, Floats).Remote();
        var view = result.GetView(Within.Timeout);
        result.Dispose();

        Assert.Equal(Floats - 1f, view.Span[^1]);
        Assert.Equal(1, Store.GetStats().PinnedCount);

        view.Dispose();
        Assert.Equal(0, Store.GetStats().ObjectCount);
        Assert.Throws<ObjectDisposedException>(() => view.Span[0]);
    }

    [Fact]
    public void A_small_array_travels_inline_and_is_decoded_into_a_copy()
    {
        using var result = _ray.Task(Arrays.Ramp, 10).Remote();
        using var view = result.GetView(Within.Timeout);
        Assert.False(view.InPlace);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), view.Span.ToArray());
    }

    [Fact]
    public void Viewing_a_failed_task_throws_its_error()
    {
        using var result = _ray.Task(Arrays.Broken, 3).Remote();
        var error = Assert.Throws<RayTaskException>(() => result.GetView(Within.Timeout));
        Assert.Contains("no array for 3", error.Message, StringComparison.Ordinal);
    }
}

internal static class Arrays
{
    public static float[] Ramp(int n)
    {
        var values = new float[n];
        for (var i = 0; i < n; i++)
            values[i] = i;
        return values;
    }

    public static float[] Broken(int n) => throw new InvalidOperationException($"no array for {n}");
}
