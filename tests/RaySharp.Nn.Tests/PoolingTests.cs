using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class PoolingTests
{
    /// <summary>Distinct values at least 0.1 apart, so finite differences never swap a window's maximum.</summary>
    private static Tensor Distinct(ulong seed, params int[] shape)
    {
        var n = shape.Aggregate(1, (a, b) => a * b);
        var rng = new Rng(seed);
        var order = Enumerable.Range(0, n).OrderBy(_ => rng.NextUInt64()).Select(i => 0.1f * i - 0.05f * n).ToArray();
        return Tensor.FromArray(order, shape);
    }

    [Fact]
    public void Max_pool_picks_each_window_maximum_and_routes_the_gradient_to_it()
    {
        var x = Tensor.FromArray([1, 5, 2, 0, 3, 4, 8, 1, 0, 9, 1, 2, 7, 6, 3, 4], 1, 1, 4, 4);
        x.RequiresGrad = true;
        var y = x.MaxPool2d(2);
        Assert.Equal(new[] { 1, 1, 2, 2 }, y.ShapeArray());
        Assert.Equal([5f, 8, 9, 4], y.ToArray());
        y.Sum().Backward();
        Assert.Equal([0f, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1], x.Grad!.ToArray());
        using (Tensor.NoGrad()) Assert.Equal(y.ToArray(), x.MaxPool2d(2).ToArray());
    }

    [Fact]
    public void Max_pool_propagates_nan_like_pytorch()
    {
        foreach (var tracked in new[] { false, true })
        {
            var x = Tensor.FromArray([1, float.NaN, 2, 3, float.NaN, 5], 1, 1, 6);
            x.RequiresGrad = tracked; // with a gradient the arg-max is recorded; without, a branch-free max runs
            var y = x.MaxPool1d(2);
            Assert.True(float.IsNaN(y[0, 0, 0]));
            Assert.Equal(3f, y[0, 0, 1]);
            Assert.True(float.IsNaN(y[0, 0, 2]));
        }
    }

    [Theory]
    [InlineData(4, 6)]
    [InlineData(5, 7)]
    public void The_two_by_two_max_pool_matches_a_direct_loop_with_and_without_gradients(int h, int w)
    {
        var x = Distinct(9, 2, 3, h, w);
        x[1, 2, 1, 1] = float.NaN;
        foreach (var tracked in new[] { false, true })
        {
            x.RequiresGrad = tracked;
            var y = x.MaxPool2d(2);
            for (var n = 0; n < 2; n++)
                for (var c = 0; c < 3; c++)
                    for (var i = 0; i < h / 2; i++)
                        for (var j = 0; j < w / 2; j++)
                        {
                            float[] window = [x[n, c, 2 * i, 2 * j], x[n, c, 2 * i, 2 * j + 1], x[n, c, 2 * i + 1, 2 * j], x[n, c, 2 * i + 1, 2 * j + 1]];
                            Assert.Equal(window.Any(float.IsNaN) ? float.NaN : window.Max(), y[n, c, i, j]);
                        }
        }
        x[1, 2, 1, 1] = 0.123f;
        GradCheck.Check(t => t[0].MaxPool2d(2), x);
    }

    [Fact]
    public void Max_pools_have_correct_gradients_with_stride_and_padding()
    {
        GradCheck.Check(x => x[0].MaxPool2d(3, stride: 2, padding: 1), Distinct(1, 2, 2, 5, 6));
        GradCheck.Check(x => x[0].MaxPool1d(2, stride: 1), Distinct(2, 2, 3, 5));
    }

    [Fact]
    public void Average_pool_counts_the_padding_in_the_divisor_unless_told_not_to()
    {
        var x = Tensor.FromArray([1, 2, 3, 4], 1, 1, 4);
        // windows of 2 every 2 over [0 | 1 2 3 4 | 0]: {0,1}, {2,3}, {4,0}
        Assert.Equal([0.5f, 2.5f, 2f], x.AvgPool1d(2, padding: 1).ToArray());
        Assert.Equal([1f, 2.5f, 4f], x.AvgPool1d(2, padding: 1, countIncludePad: false).ToArray());
        var img = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        Assert.Equal([3f, 4, 6, 7], img.AvgPool2d(2, stride: 1).ToArray());
    }

    [Fact]
    public void Average_pools_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].AvgPool2d(3, stride: 2, padding: 1), GradCheck.Random(3, 2, 2, 5, 6));
        GradCheck.Check(x => x[0].AvgPool2d(2, padding: 1, countIncludePad: false), GradCheck.Random(4, 1, 2, 4, 3));
        GradCheck.Check(x => x[0].AvgPool1d(3, stride: 2), GradCheck.Random(5, 2, 2, 7));
    }

    [Fact]
    public void Adaptive_average_pool_uses_pytorch_bins()
    {
        // L = 5 → 3: bins [0, 2), [1, 4), [3, 5)
        var y = Tensor.FromArray([1, 2, 3, 4, 5], 1, 1, 5).AdaptiveAvgPool1d(3);
        Assert.Equal([1.5f, 3, 4.5f], y.ToArray());
        var g = Tensor.Ones(2, 3, 4, 4).AdaptiveAvgPool2d(1, 1);
        Assert.Equal(new[] { 2, 3, 1, 1 }, g.ShapeArray());
        GradCheck.Check(x => x[0].AdaptiveAvgPool2d(2, 3), GradCheck.Random(6, 2, 2, 5, 7));
        GradCheck.Check(x => x[0].AdaptiveAvgPool1d(4), GradCheck.Random(7, 1, 2, 6));
    }

    [Fact]
    public void Pool_modules_apply_their_operations()
    {
        var x = Distinct(8, 2, 3, 6, 6);
        Assert.Equal(x.MaxPool2d(2).ToArray(), new MaxPool2d(2).Forward(x).ToArray());
        Assert.Equal(x.AvgPool2d(3, 1, 1).ToArray(), new AvgPool2d(3, 1, 1).Forward(x).ToArray());
        Assert.Equal(x.AdaptiveAvgPool2d(1, 1).ToArray(), new AdaptiveAvgPool2d(1, 1).Forward(x).ToArray());
        var s = x.Reshape(2, 3, 36);
        Assert.Equal(s.MaxPool1d(3).ToArray(), new MaxPool1d(3).Forward(s).ToArray());
        Assert.Equal(s.AvgPool1d(4, 2).ToArray(), new AvgPool1d(4, 2).Forward(s).ToArray());
        Assert.Equal(s.AdaptiveAvgPool1d(5).ToArray(), new AdaptiveAvgPool1d(5).Forward(s).ToArray());
    }

    [Fact]
    public void Bad_pooling_arguments_say_what_is_wrong()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 4, 4).MaxPool2d(2));
        Assert.Contains("[N, C, H, W]", e.Message);
        var p = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Zeros(1, 1, 4, 4).AvgPool2d(2, padding: 2));
        Assert.Contains("padding <= kernel/2", p.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 1, 2).MaxPool1d(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveAvgPool2d(0, 1));
    }
}
