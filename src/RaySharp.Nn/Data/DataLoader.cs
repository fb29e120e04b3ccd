using System.Collections;
using System.Threading.Channels;

namespace RaySharp.Nn;

/// <summary>
/// Iterates a <see cref="Dataset"/> in batches (PyTorch's <c>DataLoader</c>): each enumeration is one
/// epoch that visits every sample once, in order or shuffled (epoch e uses a permutation drawn from
/// <c>seed</c> and e, so runs repeat exactly), the last short batch kept unless
/// <see cref="DropLast"/>. With <see cref="Prefetch"/> &gt; 0 batches are assembled on a background
/// thread, up to that many ahead of the consumer.
/// </summary>
public sealed class DataLoader : IEnumerable<Batch>
{
    private readonly ulong _seed;
    private int _epoch;

    /// <summary>Creates the loader.</summary>
    /// <exception cref="ArgumentOutOfRangeException">batchSize &lt; 1 or prefetch &lt; 0.</exception>
    public DataLoader(Dataset dataset, int batchSize, bool shuffle = false, ulong seed = 0, bool dropLast = false, int prefetch = 2)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        if (prefetch < 0)
            throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, "Prefetch must be >= 0 (0 assembles batches on the consuming thread).");
        (Dataset, BatchSize, Shuffle, _seed, DropLast, Prefetch) = (dataset, batchSize, shuffle, seed, dropLast, prefetch);
    }

    /// <summary>The dataset iterated.</summary>
    public Dataset Dataset { get; }

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a fresh random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Whether a last batch smaller than <see cref="BatchSize"/> is skipped.</summary>
    public bool DropLast { get; }

    /// <summary>How many batches a background thread may prepare ahead (0: none, no thread).</summary>
    public int Prefetch { get; }

    /// <summary>Batches per epoch.</summary>
    public int Count => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>The sample order of epoch <paramref name="epoch"/> (0-based).</summary>
    public int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (!Shuffle) return order;
        var rng = new Rng(_seed * 0x9E3779B97F4A7C15UL + (ulong)epoch + 1);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>Starts the next epoch.</summary>
    public IEnumerator<Batch> GetEnumerator()
    {
        var order = Order(Interlocked.Increment(ref _epoch) - 1);
        return Prefetch == 0 ? Batches(order).GetEnumerator() : Prefetched(order);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerable<Batch> Batches(int[] order)
    {
        for (var b = 0; b < Count; b++) yield return Make(order, b);
    }

    private Batch Make(int[] order, int b)
    {
        var start = b * BatchSize;
        var indices = order[start..Math.Min(start + BatchSize, order.Length)];
        int ni = Tensor.ShapeLength(Dataset.InputShape), nt = Tensor.ShapeLength(Dataset.TargetShape);
        var inputs = new float[indices.Length * ni];
        var targets = new float[indices.Length * nt];
        for (var i = 0; i < indices.Length; i++)
            Dataset.Fill(indices[i], inputs.AsSpan(i * ni, ni), targets.AsSpan(i * nt, nt));
        return new Batch(Tensor.Wrap(inputs, [indices.Length, .. Dataset.InputShape]), Tensor.Wrap(targets, [indices.Length, .. Dataset.TargetShape]), indices);
    }

    private IEnumerator<Batch> Prefetched(int[] order)
    {
        var channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(Prefetch) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var b = 0; b < Count; b++) await channel.Writer.WriteAsync(Make(order, b), stop.Token).ConfigureAwait(false);
                channel.Writer.Complete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e is OperationCanceledException ? null : e);
            }
        });
        try
        {
            while (channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                while (channel.Reader.TryRead(out var batch)) yield return batch;
        }
        finally
        {
            // The consumer stopped early (or finished): release a producer waiting for room, then join it.
            stop.Cancel();
            producer.GetAwaiter().GetResult();
        }
    }
}
