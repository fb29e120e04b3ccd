using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class LayerAndDistributionTests
{
    private static Tensor R(ulong seed, params int[] shape) => GradCheck.Random(seed, shape);

    [Fact]
    public void Conv2d_with_stride_and_padding_has_correct_gradients() =>
        GradCheck.Check(x => Tensor.Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), R(1, 2, 2, 5, 4), R(2, 3, 2, 3, 3), R(3, 3));

    [Fact]
    public void Conv2d_matches_a_direct_convolution()
    {
        var x = R(4, 1, 2, 4, 4);
        var w = R(5, 3, 2, 2, 2);
        var y = Tensor.Conv2d(x, w, null, stride: 1, padding: 0);
        Assert.Equal(new[] { 1, 3, 3, 3 }, y.ShapeArray());
        for (var o = 0; o < 3; o++)
            for (var i = 0; i < 3; i++)
                for (var j = 0; j < 3; j++)
                {
                    var s = 0f;
                    for (var c = 0; c < 2; c++)
                        for (var a = 0; a < 2; a++)
                            for (var b = 0; b < 2; b++)
                                s += x[0, c, i + a, j + b] * w[o, c, a, b];
                    Assert.Equal(s, y[0, o, i, j], 4);
                }
    }

    [Fact]
    public void LayerNorm_normalises_rows_and_has_correct_gradients()
    {
        var y = Tensor.LayerNorm(R(6, 3, 8) * 5f + 2f, null, null);
        for (var r = 0; r < 3; r++)
        {
            var row = y.Select(r);
            Assert.Equal(0f, row.Mean().Item(), 4);
            Assert.Equal(1f, row.Square().Mean().Item(), 3);
        }
        GradCheck.Check(x => Tensor.LayerNorm(x[0], x[1], x[2]), R(7, 2, 5), R(8, 5), R(9, 5));
    }

    [Fact]
    public void Embedding_looks_up_rows_and_routes_gradients_to_them()
    {
        var emb = new Embedding(5, 3, new Rng(1));
        var y = emb.Forward(Tensor.FromArray([4, 0, 4], 3));
        Assert.Equal(new[] { 3, 3 }, y.ShapeArray());
        Assert.Equal(emb.Weight.Select(4).ToArray(), y.Select(0).ToArray());
        y.Sum().Backward();
        Assert.Equal(new[] { 2f, 2f, 2f }, emb.Weight.Grad!.Select(4).ToArray());
        Assert.Equal(new[] { 0f, 0f, 0f }, emb.Weight.Grad!.Select(1).ToArray());
        Assert.Throws<ArgumentException>(() => emb.Forward(Tensor.Vector(0.5f)));
    }

    [Fact]
    public void A_small_convnet_in_sequential_trains_and_names_its_parameters()
    {
        var rng = new Rng(2);
        var net = new Sequential(new Conv2d(1, 4, 3, padding: 1, rng: rng), new ActivationLayer(Activation.ReLU), new LayerNorm(6));
        Assert.Equal(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, net.NamedParameters().Select(p => p.Name));
        var x = R(3, 2, 1, 6, 6);
        var target = R(4, 2, 4, 6, 6);
        var opt = new Adam(net.Parameters(), 0.01f);
        var first = Loss.Mse(net.Forward(x), target).Item();
        for (var i = 0; i < 100; i++)
        {
            opt.ZeroGrad();
            var l = Loss.Mse(net.Forward(x), target);
            l.Backward();
            opt.Step();
        }
        Assert.True(Loss.Mse(net.Forward(x), target).Item() < first * 0.8f);
    }

    [Fact]
    public void Categorical_log_prob_entropy_and_kl_have_correct_values_and_gradients()
    {
        var uniform = new Categorical(Tensor.Zeros(2, 4));
        Assert.All(uniform.Entropy().ToArray(), e => Assert.Equal(MathF.Log(4), e, 5));
        Assert.All(uniform.LogProb([1, 3]).ToArray(), e => Assert.Equal(-MathF.Log(4), e, 5));
        Assert.All(uniform.Kl(uniform).ToArray(), e => Assert.Equal(0f, e, 6));
        GradCheck.Check(x => new Categorical(x[0]).LogProb([2, 0]), R(10, 2, 3));
        GradCheck.Check(x => new Categorical(x[0]).Entropy(), R(11, 2, 3));
        GradCheck.Check(x => new Categorical(x[0]).Kl(new Categorical(x[1])), R(12, 2, 3), R(13, 2, 3));
    }

    [Fact]
    public void Categorical_samples_follow_the_probabilities()
    {
        var d = new Categorical(Tensor.FromArray([MathF.Log(0.2f), MathF.Log(0.8f)], 1, 2));
        var rng = new Rng(3);
        var ones = Enumerable.Range(0, 4000).Count(_ => d.Sample(rng)[0] == 1);
        Assert.InRange(ones / 4000.0, 0.77, 0.83);
        Assert.Equal(new[] { 1 }, d.Mode());
    }

    [Fact]
    public void Gaussian_log_prob_entropy_and_kl_match_the_closed_forms()
    {
        var g = new DiagGaussian(Tensor.FromArray([0.5f, -1f], 1, 2), Tensor.Vector(MathF.Log(2f), 0f));
        var lp = g.LogProb(Tensor.FromArray([1.5f, 0f], 1, 2)).Item();
        var expected = -0.5 * (0.25 + 1.0) - Math.Log(2) - Math.Log(2 * Math.PI);
        Assert.Equal(expected, lp, 5);
        Assert.Equal(Math.Log(2) + 1 + Math.Log(2 * Math.PI), g.Entropy().Item(), 5);
        var h = new DiagGaussian(Tensor.FromArray([0f, 0f], 1, 2), Tensor.Vector(0f, 0f));
        var kl = g.Kl(h).Item();
        var expectedKl = (-Math.Log(2) + (4 + 0.25) / 2 - 0.5) + ((1.0 + 1.0) / 2 - 0.5);
        Assert.Equal(expectedKl, kl, 5);
    }

    [Fact]
    public void Gaussian_and_squashed_gaussian_have_correct_gradients()
    {
        GradCheck.Check(x => new DiagGaussian(x[0], x[1]).LogProb(x[2]), R(14, 2, 3), R(15, 3), R(16, 2, 3));
        GradCheck.Check(x => new DiagGaussian(R(17, 2, 3), x[0]).Entropy(), R(18, 2, 3)); // entropy does not depend on the mean
        GradCheck.Check(x => new DiagGaussian(x[0], x[1]).Kl(new DiagGaussian(x[2], x[3])), R(19, 2, 2), R(20, 2, 2), R(21, 2, 2), R(22, 2, 2));
        GradCheck.Check(x => new SquashedGaussian(x[0], x[1]).LogProb(x[2] * 0.9f), R(23, 2, 2), R(24, 2, 2), R(25, 2, 2));
        GradCheck.Check(x => new SquashedGaussian(x[0], x[1]).Sample(new Rng(5)).LogProb, R(26, 2, 2), R(27, 2, 2));
    }

    [Fact]
    public void Squashed_log_prob_applies_the_tanh_correction()
    {
        var mean = Tensor.FromArray([0.3f], 1, 1);
        var logStd = Tensor.Vector(-0.5f);
        var d = new SquashedGaussian(mean, logStd);
        var a = 0.6f;
        var u = MathF.Atanh(a);
        var expected = d.Base.LogProb(Tensor.FromArray([u], 1, 1)).Item() - MathF.Log(1 - a * a);
        Assert.Equal(expected, d.LogProb(Tensor.FromArray([a], 1, 1)).Item(), 4);
        var (action, logProb) = d.Sample(new Rng(1));
        Assert.InRange(action.Item(), -1f, 1f);
        Assert.Equal(d.LogProb(action).Item(), logProb.Item(), 3);
    }
}
