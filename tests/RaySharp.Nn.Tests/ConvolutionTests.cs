using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class ConvolutionTests
{
    private static Tensor R(ulong seed, params int[] shape) => GradCheck.Random(seed, shape);

    /// <summary>A direct (six-loop) 2-D convolution to compare the im2col path with.</summary>
    private static float[] Direct(Tensor x, Tensor w, Tensor? b, int stride, int padding, int dilation, int groups, out int[] shape)
    {
        int n = x.Size(0), c = x.Size(1), h = x.Size(2), wd = x.Size(3), o = w.Size(0), cg = w.Size(1), kh = w.Size(2), kw = w.Size(3);
        int oh = (h + 2 * padding - dilation * (kh - 1) - 1) / stride + 1, ow = (wd + 2 * padding - dilation * (kw - 1) - 1) / stride + 1;
        shape = [n, o, oh, ow];
        var y = new float[n * o * oh * ow];
        for (var img = 0; img < n; img++)
            for (var oc = 0; oc < o; oc++)
                for (var i = 0; i < oh; i++)
                    for (var j = 0; j < ow; j++)
                    {
                        double s = b is null ? 0 : b[oc];
                        var g = oc / (o / groups);
                        for (var ci = 0; ci < cg; ci++)
                            for (var a = 0; a < kh; a++)
                                for (var e = 0; e < kw; e++)
                                {
                                    int iy = i * stride + a * dilation - padding, ix = j * stride + e * dilation - padding;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) s += x[img, g * cg + ci, iy, ix] * w[oc, ci, a, e];
                                }
                        y[((img * o + oc) * oh + i) * ow + j] = (float)s;
                    }
        return y;
    }

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 1)]
    [InlineData(2, 1, 2, 2)]
    [InlineData(1, 1, 1, 4)]
    public void Conv2d_matches_a_direct_convolution_for_every_stride_padding_dilation_and_grouping(int stride, int padding, int dilation, int groups)
    {
        var x = R(1, 2, 4, 7, 6);
        var w = R(2, 4, 4 / groups, 3, 2);
        var b = R(3, 4);
        var y = Tensor.Conv2d(x, w, b, stride, padding, dilation, groups);
        var expected = Direct(x, w, b, stride, padding, dilation, groups, out var shape);
        Assert.Equal(shape, y.ShapeArray());
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y.Span[i], 4);
    }

    [Theory]
    [InlineData(2, 1, 1, 1)]
    [InlineData(1, 2, 2, 2)]
    [InlineData(1, 0, 1, 4)]
    public void Conv2d_has_correct_gradients_with_dilation_and_groups(int stride, int padding, int dilation, int groups) =>
        GradCheck.Check(x => Tensor.Conv2d(x[0], x[1], x[2], stride, padding, dilation, groups),
            R(4, 2, 4, 5, 6), R(5, 4, 4 / groups, 2, 3), R(6, 4));

    [Theory]
    [InlineData(1, 0, 1, 1)]
    [InlineData(2, 2, 3, 2)]
    public void Conv1d_matches_conv2d_on_a_one_row_image_and_has_correct_gradients(int stride, int padding, int dilation, int groups)
    {
        var x = R(10, 2, 4, 9);
        var w = R(11, 6, 4 / groups, 3);
        var y = Tensor.Conv1d(x, w, null, stride, padding, dilation, groups);
        var expected = Direct(x.Reshape(2, 4, 1, 9), w.Reshape(6, 4 / groups, 1, 3), null, 1, 0, 1, groups, out _);
        if (stride == 1 && padding == 0) Assert.Equal(expected, y.ToArray(), new Near(1e-4f));
        var l = (9 + 2 * padding - dilation * 2 - 1) / stride + 1;
        Assert.Equal(new[] { 2, 6, l }, y.ShapeArray());
        GradCheck.Check(t => Tensor.Conv1d(t[0], t[1], t[2], stride, padding, dilation, groups), x, w, R(12, 6));
    }

    [Fact]
    public void Conv_layers_use_pytorch_default_initialisation_bounds()
    {
        var conv = new Conv2d(6, 4, 3, groups: 2, rng: new Rng(1));
        var bound = 1f / MathF.Sqrt(3 * 9);
        Assert.Equal(new[] { 4, 3, 3, 3 }, conv.Weight.ShapeArray());
        Assert.All(conv.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.True(conv.Weight.ToArray().Max() > 0.8f * bound);
        var conv1 = new Conv1d(5, 2, 4, rng: new Rng(2));
        Assert.All(conv1.Bias!.ToArray(), v => Assert.InRange(v, -1f / MathF.Sqrt(20), 1f / MathF.Sqrt(20)));
        Assert.Equal(new[] { "weight", "bias" }, conv1.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void Bad_convolution_arguments_say_what_is_wrong()
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.Conv2d(R(1, 1, 3, 5, 5), R(2, 2, 2, 3, 3), null));
        Assert.Contains("3 channels", e.Message);
        Assert.Contains("expects 2", e.Message);
        var g = Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Conv2d(R(1, 1, 3, 5, 5), R(2, 2, 1, 3, 3), null, groups: 2));
        Assert.Contains("groups (2) must divide", g.Message);
        var k = Assert.Throws<ArgumentException>(() => Tensor.Conv1d(R(1, 1, 1, 4), R(2, 1, 1, 3), null, dilation: 2));
        Assert.Contains("larger than the padded input", k.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Conv1d(R(1, 1, 4, 4), R(2, 1, 1, 3), null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(4, 6, 3, groups: 4));
    }

    private sealed class Near(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
