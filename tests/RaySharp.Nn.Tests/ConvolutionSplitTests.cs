using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>Convolutions with their images split across threads (forced through process-wide settings, hence the Blas collection).</summary>
[Collection("Blas")]
public class ConvolutionSplitTests
{
    [Fact]
    public void Conv2d_split_into_blocks_of_images_has_correct_gradients()
    {
        using var _ = SplitEverything.Scope(threads: 2);
        GradCheck.Check(x => Tensor.Conv2d(x[0], x[1], x[2], padding: 1, groups: 2),
            GradCheck.Random(7, 3, 2, 4, 4), GradCheck.Random(8, 4, 1, 3, 3), GradCheck.Random(9, 4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Conv2d_cut_into_chunks_of_images_has_correct_values_and_gradients(int threads)
    {
        var x = GradCheck.Random(10, 5, 2, 5, 4);
        var w = GradCheck.Random(11, 4, 1, 3, 3);
        var b = GradCheck.Random(12, 4);
        var whole = Tensor.Conv2d(x, w, b, padding: 1, groups: 2).ToArray();
        var saved = ConvPlan.ChunkFloats;
        using var _ = SplitEverything.Scope(threads);
        try
        {
            ConvPlan.ChunkFloats = 2 * (18 + 4) * 20; // two images (column matrix and product) per chunk: chunks of 2, 2 and 1
            Assert.Equal(3, new ConvPlan(new ConvGeometry(2, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1), 5, 4, 2).Chunks);
            Assert.Equal(whole, Tensor.Conv2d(x, w, b, padding: 1, groups: 2).ToArray());
            GradCheck.Check(t => Tensor.Conv2d(t[0], t[1], t[2], padding: 1, groups: 2), x, w, b);
        }
        finally
        {
            ConvPlan.ChunkFloats = saved;
        }
    }

    [Fact]
    public void A_conv_plan_counts_the_product_in_a_chunk_and_gives_each_thread_as_many_chunks()
    {
        using var _ = SplitEverything.Scope(threads: 2);
        // The bench CNN's 1→32 first layer at batch 64: a 9-row column matrix but a 32-row product.
        var first = new ConvPlan(new ConvGeometry(1, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1), 64, 32, 1);
        Assert.True(first.PerChunk * (first.Rows + 32) * 784 <= ConvPlan.ChunkFloats, $"{first.PerChunk} images per chunk overflow the chunk size");
        Assert.Equal(2, first.Blocks);
        // Its 32→64 second layer: 5 chunks of 15 images would leave one thread 3 of them.
        var second = new ConvPlan(new ConvGeometry(32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1), 64, 64, 1);
        Assert.Equal(2, second.Blocks);
        Assert.Equal(0, second.Chunks % second.Blocks);
        Assert.True((second.Chunks - 1) * second.PerChunk < 64, "the last chunk is empty");
    }
}
