using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>
/// The fused Linear kernel split into blocks of rows, one per thread (forward product + bias +
/// activation per block; backward activation derivative, bias sums, dX rows and partial dW per block).
/// In the Blas collection because the split is forced through process-wide settings.
/// </summary>
[Collection("Blas")]
public class FusedLinearTests
{
    private static Tensor R(ulong seed, params int[] shape) => GradCheck.Random(seed, shape);

    [Theory]
    [InlineData(Activation.Identity, false)]
    [InlineData(Activation.ReLU, false)]
    [InlineData(Activation.Tanh, false)]
    [InlineData(Activation.Sigmoid, false)]
    [InlineData(Activation.ReLU, true)]
    [InlineData(Activation.Tanh, true)]
    public void Linear_split_into_row_blocks_has_correct_gradients(Activation activation, bool managedKernel)
    {
        using var _ = SplitEverything.Scope(threads: 3);
        Blas.ForceManaged = managedKernel;
        try
        {
            GradCheck.Check(x => Tensor.Linear(x[0], x[1], x[2], activation), GradCheck.AwayFromZero(60, 7, 4), R(61, 5, 4), R(62, 5));
        }
        finally
        {
            Blas.ForceManaged = false;
        }
    }

    [Fact]
    public void Split_linear_gradients_accumulate_when_its_inputs_are_used_twice()
    {
        // The second backward pass adds to dX, dW and db instead of overwriting them.
        using var _ = SplitEverything.Scope(threads: 2);
        GradCheck.Check(x => Tensor.Linear(x[0], x[1], x[2], Activation.ReLU) + Tensor.Linear(x[0], x[1], x[2], Activation.Tanh) * 0.5f,
            GradCheck.AwayFromZero(63, 6, 3), R(64, 4, 3), R(65, 4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Fused_linear_relu_matches_matmul_add_relu_at_a_batch_large_enough_to_split(int threads)
    {
        // At this size the default threshold splits the work whenever there is more than one thread.
        const int batch = 2400, inF = 48, outF = 40;
        Assert.True((long)batch * inF * outF >= Blas.ParallelMinWork, "the shape no longer reaches the split threshold");
        var x = R(66, batch, inF);
        var w = R(67, outF, inF);
        var b = R(68, outF);
        var upstream = R(69, batch, outF);
        var prevThreads = Blas.Threads;
        Blas.Threads = threads;
        try
        {
            var fused = Gradients(() => Tensor.Linear(x, w, b, Activation.ReLU), upstream, x, w, b);
            var composed = Gradients(() => (x.MatMul(w.Transpose()) + b).Relu(), upstream, x, w, b);
            for (var t = 0; t < fused.Length; t++)
                for (var i = 0; i < fused[t].Length; i++)
                    Assert.True(Math.Abs(fused[t][i] - composed[t][i]) <= 1e-4f * Math.Max(1f, Math.Abs(composed[t][i])),
                        $"threads={threads}, array {t} (output, dX, dW, db), element {i}: fused {fused[t][i]} vs composed {composed[t][i]}");
        }
        finally
        {
            Blas.Threads = prevThreads;
        }
    }

    /// <summary>The output and the gradients of the given leaves after back-propagating <paramref name="upstream"/>.</summary>
    private static float[][] Gradients(Func<Tensor> f, Tensor upstream, params Tensor[] leaves)
    {
        foreach (var leaf in leaves)
        {
            leaf.RequiresGrad = true;
            leaf.Grad = null;
        }
        var y = f();
        y.Backward(upstream);
        return [y.ToArray(), .. leaves.Select(l => l.Grad!.ToArray())];
    }
}
