using System.Globalization;
using RaySharp.ObjectStore;

namespace RaySharp.Bench.Core;

/// <summary>
/// The object store alone (client and store in this process, no runtime): the ceiling the runtime's
/// put/get calls and put gigabytes can reach through it. Recorded as <c>objstore_*</c>, next to Ray's
/// names, which measure the whole runtime.
/// </summary>
internal static class ObjectStoreMicrobenchmarks
{
    public static async Task RunAsync(BenchReport report, bool quick, int runs, CancellationToken cancellationToken)
    {
        var bigBytes = quick ? 128 << 20 : 800 << 20; // Ray's single_client_put_gigabytes puts an 800 MB array
        using var store = new SharedMemoryObjectStore<BenchKey>(new ObjectStoreOptions { CapacityBytes = bigBytes + (64L << 20) });
        using var client = new ObjectStoreClient<BenchKey>(store, store.Directory);
        long next = 0;

        var big = GC.AllocateUninitializedArray<byte>(bigBytes, pinned: true);
        big.AsSpan().Fill(7);
        var puts = quick ? 8 : 4;
        report.Add("objstore_put_gbps", "GB/s", [.. (await Measure.RateAsync(runs, puts, async () =>
        {
            for (var i = 0; i < puts; i++)
            {
                var key = new BenchKey(next++);
                await client.PutAsync(key, big, cancellationToken: cancellationToken);
                store.Delete(key);
            }
        })).Select(r => r * bigBytes / 1e9)]);

        // The same put into memory no object has touched yet (a new store per sample, not preallocated):
        // the page faults and zeroing a first put pays, the case of a runtime whose frees lag its puts.
        var freshBytes = Math.Min(bigBytes, 256 << 20);
        var fresh = new List<SharedMemoryObjectStore<BenchKey>>();
        try
        {
            report.Add("objstore_put_fresh_gbps", "GB/s", [.. (await Measure.RateAsync(runs, 1, async () =>
            {
                var freshStore = new SharedMemoryObjectStore<BenchKey>(new ObjectStoreOptions { CapacityBytes = freshBytes + (1 << 20) });
                fresh.Add(freshStore);
                using var freshClient = new ObjectStoreClient<BenchKey>(freshStore, freshStore.Directory);
                await freshClient.PutAsync(new BenchKey(0), big.AsMemory(0, freshBytes), cancellationToken: cancellationToken);
            })).Select(r => r * freshBytes / 1e9)]);
        }
        finally
        {
            foreach (var s in fresh)
                s.Dispose();
        }

        // Never-used ranges again, but of a preallocated arena (ObjectStoreOptions.Preallocate) whose client
        // filled its page tables when it connected: what Preallocate buys a runtime whose frees lag.
        using (var preallocated = new SharedMemoryObjectStore<BenchKey>(new ObjectStoreOptions { CapacityBytes = (runs + 1L) * freshBytes + (1 << 20), Preallocate = true }))
        using (var preallocatedClient = new ObjectStoreClient<BenchKey>(preallocated, preallocated.Directory))
        {
            long nextFresh = 0;
            report.Add("objstore_put_preallocated_gbps", "GB/s", [.. (await Measure.RateAsync(runs, 1, () =>
                preallocatedClient.PutAsync(new BenchKey(nextFresh++), big.AsMemory(0, freshBytes), cancellationToken: cancellationToken).AsTask()))
                .Select(r => r * freshBytes / 1e9)]);
        }

        var small = new byte[64];
        var calls = quick ? 20_000 : 100_000;
        report.Add("objstore_put_calls", "calls/s", await Measure.RateAsync(runs, calls, async () =>
        {
            for (var i = 0; i < calls; i++)
            {
                var key = new BenchKey(next++);
                await client.PutAsync(key, small, cancellationToken: cancellationToken);
                store.Delete(key);
            }
        }));

        var sealedKey = new BenchKey(next++);
        await client.PutAsync(sealedKey, small, cancellationToken: cancellationToken);
        report.Add("objstore_get_calls", "calls/s", await Measure.RateAsync(runs, calls, async () =>
        {
            for (var i = 0; i < calls; i++)
            {
                var view = await client.GetAsync(sealedKey, cancellationToken);
                await view.DisposeAsync();
            }
        }));
    }

    private readonly record struct BenchKey(long Value) : ISpanFormattable
    {
        public string ToString(string? format, IFormatProvider? formatProvider) => Value.ToString("x16", CultureInfo.InvariantCulture);

        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
            Value.TryFormat(destination, out charsWritten, "x16", CultureInfo.InvariantCulture);
    }
}
