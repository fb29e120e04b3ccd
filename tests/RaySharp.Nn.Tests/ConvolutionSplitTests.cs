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
}
