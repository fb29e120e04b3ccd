namespace RaySharp.Nn;

/// <summary>
/// How a convolution over a batch is cut into matrix products: images go in chunks whose im2col
/// columns sit side by side, so each group's product is one [O/g, rows/g] × [rows/g, images·H'W']
/// GEMM (per-image products of a small layer were slower: forward + backward of a 32→64 3×3 layer at
/// batch 256 took 202 ms of CPU on one core with them, 116 ms with chunks). A chunk's column matrix and
/// product together are kept near <see cref="ChunkFloats"/> floats so that they stay in cache between
/// im2col, the product and the scatter (counting the column matrix alone, the 1→32 first layer of the
/// bench's CNN put all 64 images of a batch in one 6 MB product on one thread); chunks are split across
/// <see cref="Blas.Threads"/> threads when the work is large enough, the same number for each thread.
/// </summary>
internal sealed class ConvPlan
{
    /// <summary>Target size of one chunk's column matrix plus product (4 MB of floats); internal so that tests can force many chunks.</summary>
    internal static int ChunkFloats { get; set; } = 1 << 20;

    public ConvPlan(ConvGeometry geometry, int images, int outChannels, int groups)
    {
        (Geometry, Images, OutChannels, Groups) = (geometry, images, outChannels, groups);
        PerChunk = Math.Clamp(ChunkFloats / Math.Max(1, (geometry.Rows + outChannels) * geometry.Cols), 1, Math.Max(images, 1));
        Chunks = (images + PerChunk - 1) / PerChunk;
        Blocks = Chunks == 0 ? 1 : Blas.Blocks((long)images * outChannels * Rg * geometry.Cols, Chunks);
        if (Blocks > 1 && Chunks % Blocks != 0)
        {
            // A whole number of chunks per thread, or the thread with one chunk more finishes last.
            PerChunk = (images + Blocks * (Chunks / Blocks + 1) - 1) / (Blocks * (Chunks / Blocks + 1));
            Chunks = (images + PerChunk - 1) / PerChunk;
        }
    }

    public ConvGeometry Geometry { get; }

    public int Images { get; }

    public int OutChannels { get; }

    public int Groups { get; }

    /// <summary>Output channels per group.</summary>
    public int Og => OutChannels / Groups;

    /// <summary>Rows of the column matrix (C·kH·kW).</summary>
    public int Rows => Geometry.Rows;

    /// <summary>Rows of the column matrix per group.</summary>
    public int Rg => Rows / Groups;

    /// <summary>Images per chunk.</summary>
    public int PerChunk { get; }

    /// <summary>Columns of a full chunk (PerChunk·H'W').</summary>
    public int ChunkColumns => PerChunk * Geometry.Cols;

    public int Chunks { get; }

    /// <summary>Parallel blocks of chunks.</summary>
    public int Blocks { get; }

    private int ImageIn => Geometry.C * Geometry.H * Geometry.W;

    /// <summary>(first image, image count) of each chunk in block <paramref name="block"/>.</summary>
    public IEnumerable<(int First, int Count)> ChunksOf(int block)
    {
        for (var c = Blas.BlockStart(Chunks, Blocks, block); c < Blas.BlockStart(Chunks, Blocks, block + 1); c++)
        {
            var first = c * PerChunk;
            yield return (first, Math.Min(PerChunk, Images - first));
        }
    }

    /// <summary>The chunk's column matrix [rows, count·H'W'].</summary>
    public void Im2Col(ReadOnlySpan<float> x, int first, int count, Span<float> cols)
    {
        for (var i = 0; i < count; i++)
            Geometry.Im2Col(x.Slice((first + i) * ImageIn, ImageIn), cols[(i * Geometry.Cols)..], count * Geometry.Cols);
    }

    /// <summary>Adds the chunk's column-matrix gradient back to its images' pixels.</summary>
    public void Col2ImAdd(ReadOnlySpan<float> cols, Span<float> dx, int first, int count)
    {
        for (var i = 0; i < count; i++)
            Geometry.Col2ImAdd(cols[(i * Geometry.Cols)..], dx.Slice((first + i) * ImageIn, ImageIn), count * Geometry.Cols);
    }

    /// <summary>The chunk's rows of the output gradient [N, O, H'W'] laid out as [O, count·H'W'].</summary>
    public void Gather(ReadOnlySpan<float> grad, Span<float> g, int first, int count)
    {
        int cols = Geometry.Cols, ld = count * cols;
        for (var i = 0; i < count; i++)
            for (var oc = 0; oc < OutChannels; oc++)
                grad.Slice(((first + i) * OutChannels + oc) * cols, cols).CopyTo(g.Slice(oc * ld + i * cols, cols));
    }
}
