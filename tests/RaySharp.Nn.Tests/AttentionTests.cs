using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class AttentionTests
{
    /// <summary>Scaled dot-product attention per head with explicit loops in double, from the layer's weights.</summary>
    private static double[,,] Naive(MultiheadAttention mha, Tensor q, Tensor k, Tensor v, Tensor? mask)
    {
        int n = q.Size(0), l = q.Size(1), s = k.Size(1), e = mha.EmbedDim, h = mha.Heads, d = e / h;
        double Proj(Tensor x, int b, int t, int which, int f)
        {
            double sum = mha.InProjBias![which * e + f];
            for (var j = 0; j < e; j++) sum += mha.InProjWeight[which * e + f, j] * x[b, t, j];
            return sum;
        }
        var result = new double[n, l, e];
        for (var b = 0; b < n; b++)
        {
            var ctx = new double[l, e];
            for (var head = 0; head < h; head++)
                for (var i = 0; i < l; i++)
                {
                    var scores = new double[s];
                    for (var j = 0; j < s; j++)
                    {
                        for (var f = head * d; f < (head + 1) * d; f++) scores[j] += Proj(q, b, i, 0, f) * Proj(k, b, j, 1, f);
                        scores[j] = scores[j] / Math.Sqrt(d) + (mask is null ? 0 : mask[i, j]);
                    }
                    var max = scores.Max();
                    var w = scores.Select(x => Math.Exp(x - max)).ToArray();
                    var total = w.Sum();
                    for (var j = 0; j < s; j++)
                        for (var f = head * d; f < (head + 1) * d; f++) ctx[i, f] += w[j] / total * Proj(v, b, j, 2, f);
                }
            for (var i = 0; i < l; i++)
                for (var o = 0; o < e; o++)
                {
                    double sum = mha.OutProj.Bias![o];
                    for (var f = 0; f < e; f++) sum += mha.OutProj.Weight[o, f] * ctx[i, f];
                    result[b, i, o] = sum;
                }
        }
        return result;
    }

    private static MultiheadAttention Layer(ulong seed)
    {
        var mha = new MultiheadAttention(8, 2, rng: new Rng(seed));
        // Non-zero biases so that the test covers them (PyTorch initialises them to zero).
        Init.Uniform(mha.InProjBias!, new Rng(seed + 1), -0.5f, 0.5f);
        Init.Uniform(mha.OutProj.Bias!, new Rng(seed + 2), -0.5f, 0.5f);
        return mha;
    }

    [Fact]
    public void Attention_matches_a_naive_implementation_with_and_without_a_causal_mask()
    {
        var mha = Layer(1);
        var q = GradCheck.Random(2, 2, 4, 8);
        var kv = GradCheck.Random(3, 2, 4, 8);
        foreach (var mask in new[] { null, MultiheadAttention.CausalMask(4) })
        {
            var (y, weights) = mha.Forward(q, kv, kv, mask);
            var expected = Naive(mha, q, kv, kv, mask);
            for (var b = 0; b < 2; b++)
                for (var i = 0; i < 4; i++)
                    for (var o = 0; o < 8; o++) Assert.Equal(expected[b, i, o], y[b, i, o], 4);
            Assert.Equal(new[] { 2, 4, 4 }, weights.ShapeArray());
            for (var i = 0; i < 4; i++) Assert.Equal(1f, weights.Select(0).Select(i).Sum().Item(), 5);
            if (mask is not null) Assert.Equal(0f, weights[1, 0, 3]);
        }
    }

    [Fact]
    public void Cross_attention_over_a_longer_source_matches_the_naive_implementation()
    {
        var mha = Layer(4);
        var q = GradCheck.Random(5, 1, 2, 8);
        var k = GradCheck.Random(6, 1, 5, 8);
        var v = GradCheck.Random(7, 1, 5, 8);
        var (y, _) = mha.Forward(q, k, v);
        var expected = Naive(mha, q, k, v, null);
        for (var i = 0; i < 2; i++)
            for (var o = 0; o < 8; o++) Assert.Equal(expected[0, i, o], y[0, i, o], 4);
    }

    [Fact]
    public void Attention_has_correct_gradients_for_inputs_and_parameters()
    {
        var mha = new MultiheadAttention(4, 2, rng: new Rng(8));
        Tensor[] inputs = [GradCheck.Random(9, 2, 3, 4), GradCheck.Random(10, 2, 3, 4), .. mha.Parameters()];
        GradCheck.Check(t => mha.Forward(t[0], t[1], t[1], MultiheadAttention.CausalMask(3)).Output, inputs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encoder_block_in_eval_mode_is_attention_and_feed_forward_with_residuals_and_norms(bool normFirst)
    {
        var block = new TransformerEncoderLayer(8, 2, dimFeedforward: 16, normFirst: normFirst, rng: new Rng(11));
        block.Eval();
        var x = GradCheck.Random(12, 2, 3, 8);
        var y = block.Forward(x);
        Tensor Attn(Tensor t) => block.SelfAttention.Forward(t);
        Tensor Ff(Tensor t) => block.Linear2.Forward(block.Linear1.Forward(t).Relu());
        Tensor expected;
        if (normFirst)
        {
            var h = x + Attn(block.Norm1.Forward(x));
            expected = h + Ff(block.Norm2.Forward(h));
        }
        else
        {
            var h = block.Norm1.Forward(x + Attn(x));
            expected = block.Norm2.Forward(h + Ff(h));
        }
        Assert.Equal(expected.ToArray(), y.ToArray());
        Assert.Equal(y.ToArray(), block.Forward(x).ToArray()); // eval mode: no dropout, deterministic
        block.Train();
        Assert.NotEqual(y.ToArray(), block.Forward(x).ToArray());
    }

    [Fact]
    public void Encoder_block_has_correct_gradients()
    {
        var block = new TransformerEncoderLayer(4, 2, dimFeedforward: 6, rng: new Rng(13));
        block.Eval();
        Tensor[] inputs = [GradCheck.Random(14, 2, 3, 4), .. block.Parameters()];
        GradCheck.Check(t => block.Forward(t[0]), inputs);
    }

    [Fact]
    public void Encoder_block_names_its_parameters_as_pytorch_does()
    {
        var names = new TransformerEncoderLayer(8, 2, 16, rng: new Rng(1)).NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(new[]
        {
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        }, names);
    }

    [Fact]
    public void Bad_attention_inputs_name_the_expected_shapes()
    {
        var mha = new MultiheadAttention(8, 2, rng: new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => mha.Forward(Tensor.Zeros(2, 3, 6)));
        Assert.Contains("query [N, L, 8]", e.Message);
        var m = Assert.Throws<ArgumentException>(() => mha.Forward(Tensor.Zeros(1, 3, 8), Tensor.Zeros(1, 3, 8), Tensor.Zeros(1, 3, 8), Tensor.Zeros(3, 4)));
        Assert.Contains("[3, 3]", m.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MultiheadAttention(8, 3));
    }
}
