using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class NormalizationTests
{
    private static Tensor R(ulong seed, params int[] shape) => GradCheck.Random(seed, shape);

    [Fact]
    public void Batch_norm_in_training_normalises_with_batch_statistics_and_updates_running_ones()
    {
        var bn = new BatchNorm1d(2);
        var x = Tensor.FromArray([1, 10, 2, 20, 3, 30, 4, 40], 4, 2);
        var y = bn.Forward(x);
        var std0 = MathF.Sqrt(1.25f + 1e-5f);
        for (var i = 0; i < 4; i++) Assert.Equal((i + 1 - 2.5f) / std0, y[i, 0], 5);
        // running ← 0.9·running + 0.1·batch, with the unbiased variance (5/3 and 500/3)
        Assert.Equal(0.25f, bn.RunningMean[0], 6);
        Assert.Equal(2.5f, bn.RunningMean[1], 5);
        Assert.Equal(0.9f + 0.1f * 5f / 3f, bn.RunningVar[0], 6);
        Assert.Equal(0.9f + 0.1f * 500f / 3f, bn.RunningVar[1], 4);
    }

    [Fact]
    public void Batch_norm_in_eval_mode_uses_the_running_statistics_and_leaves_them_alone()
    {
        var bn = new BatchNorm2d(3);
        bn.Forward(R(1, 4, 3, 2, 2) * 3f + 1f);
        var mean = bn.RunningMean.ToArray();
        var variance = bn.RunningVar.ToArray();
        bn.Weight!.CopyFrom(Tensor.Vector(2, 3, 4));
        bn.Bias!.CopyFrom(Tensor.Vector(-1, 0, 1));
        bn.Eval();
        var x = R(2, 2, 3, 2, 2);
        var y = bn.Forward(x);
        for (var n = 0; n < 2; n++)
            for (var c = 0; c < 3; c++)
                for (var i = 0; i < 4; i++)
                {
                    var expected = (x[n, c, i / 2, i % 2] - mean[c]) / MathF.Sqrt(variance[c] + 1e-5f) * bn.Weight[c] + bn.Bias[c];
                    Assert.Equal(expected, y[n, c, i / 2, i % 2], 5);
                }
        Assert.Equal(mean, bn.RunningMean.ToArray());
        Assert.Equal(variance, bn.RunningVar.ToArray());
        Assert.Equal(y.ToArray(), bn.Forward(Tensor.Concat([x, x], 0)).Narrow(0, 0, 2).ToArray());
    }

    [Fact]
    public void Batch_norm_2d_gives_each_channel_zero_mean_and_unit_variance_over_batch_and_pixels()
    {
        var y = new BatchNorm2d(2).Forward(R(3, 3, 2, 4, 5) * 4f - 2f);
        for (var c = 0; c < 2; c++)
        {
            var channel = y.Narrow(1, c, 1);
            Assert.Equal(0f, channel.Mean().Item(), 4);
            Assert.Equal(1f, channel.Square().Mean().Item(), 3);
        }
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(true, 3)]
    [InlineData(true, 4)]
    [InlineData(false, 3)]
    public void Batch_norm_has_correct_gradients_in_training_and_eval_modes(bool training, int rank)
    {
        int[] shape = rank switch { 2 => [5, 3], 3 => [3, 3, 4], _ => [2, 3, 2, 3] };
        var mean = R(10, 3);
        var variance = GradCheck.Positive(11, 3);
        GradCheck.Check(x => Tensor.BatchNorm(x[0], mean, variance, x[1], x[2], training), R(12, shape), R(13, 3), R(14, 3));
    }

    [Fact]
    public void Batch_norm_rejects_single_value_batches_in_training_and_wrong_channel_counts()
    {
        var bn = new BatchNorm1d(4);
        var e = Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Zeros(1, 4)));
        Assert.Contains("more than one value per channel", e.Message);
        bn.Eval();
        Assert.Equal(new[] { 1, 4 }, bn.Forward(Tensor.Zeros(1, 4)).ShapeArray());
        var c = Assert.Throws<ArgumentException>(() => bn.Forward(Tensor.Zeros(3, 5)));
        Assert.Contains("C = 4", c.Message);
        Assert.Throws<ArgumentException>(() => new BatchNorm2d(4).Forward(Tensor.Zeros(3, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d(4, momentum: float.NaN));
    }

    [Fact]
    public void Batch_norm_running_statistics_are_saved_and_loaded_as_buffers()
    {
        var bn = new BatchNorm1d(3);
        bn.Forward(R(20, 6, 3) * 2f + 5f);
        Assert.Equal(new[] { "weight", "bias", "running_mean", "running_var" }, bn.StateTensors().Select(t => t.Name));
        Assert.Equal(new[] { "weight", "bias" }, bn.NamedParameters().Select(t => t.Name));
        using var stream = new MemoryStream();
        bn.Save(stream);
        var copy = new BatchNorm1d(3);
        stream.Position = 0;
        copy.Load(stream);
        Assert.Equal(bn.RunningMean.ToArray(), copy.RunningMean.ToArray());
        Assert.Equal(bn.RunningVar.ToArray(), copy.RunningVar.ToArray());
    }

    [Fact]
    public void Layer_norm_module_has_correct_gradients_for_its_parameters()
    {
        var ln = new LayerNorm(4);
        ln.Weight.CopyFrom(R(30, 4));
        GradCheck.Check(x => ln.Forward(x[0]), R(31, 2, 3, 4), ln.Weight, ln.Bias);
    }
}
