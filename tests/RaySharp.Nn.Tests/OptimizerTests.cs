using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class OptimizerTests
{
    private static Tensor Param(params float[] values)
    {
        var t = Tensor.Vector(values);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void Adam_first_step_moves_each_parameter_by_the_learning_rate_against_its_gradient_sign()
    {
        var p = Param(1f, -2f);
        p.Grad = Tensor.Vector(0.5f, -3f);
        new Adam([p], learningRate: 0.1f).Step();
        // m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε).
        Assert.Equal(0.9f, p.Span[0], 5);
        Assert.Equal(-1.9f, p.Span[1], 5);
    }

    [Fact]
    public void Adam_second_step_matches_the_bias_corrected_formula()
    {
        var p = Param(0f);
        var opt = new Adam([p], learningRate: 0.01f, beta1: 0.9f, beta2: 0.999f);
        p.Grad = Tensor.Vector(1f);
        opt.Step();
        p.Grad = Tensor.Vector(3f);
        opt.Step();
        double m = 0.9 * 0.1 + 0.1 * 3, v = 0.999 * 0.001 + 0.001 * 9;
        double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
        var expected = -0.01 - 0.01 * mh / (Math.Sqrt(vh) + 1e-8);
        Assert.Equal(expected, p.Span[0], 5);
    }

    [Fact]
    public void AdamW_decays_weights_independently_of_the_gradient()
    {
        var p = Param(2f);
        p.Grad = Tensor.Vector(0f);
        new AdamW([p], learningRate: 0.1f, weightDecay: 0.5f).Step();
        Assert.Equal(2f * (1 - 0.05f), p.Span[0], 6);
    }

    [Fact]
    public void Sgd_with_momentum_accumulates_velocity_like_pytorch()
    {
        var p = Param(1f);
        var opt = new Sgd([p], learningRate: 0.1f, momentum: 0.9f);
        p.Grad = Tensor.Vector(1f);
        opt.Step(); // b = 1, p = 0.9
        p.Grad = Tensor.Vector(1f);
        opt.Step(); // b = 1.9, p = 0.71
        Assert.Equal(0.71f, p.Span[0], 5);
    }

    [Fact]
    public void Nesterov_sgd_looks_ahead_along_the_velocity()
    {
        var p = Param(1f);
        var opt = new Sgd([p], learningRate: 0.1f, momentum: 0.5f, nesterov: true);
        p.Grad = Tensor.Vector(2f);
        opt.Step(); // b = 2, step g + μb = 3, p = 0.7
        Assert.Equal(0.7f, p.Span[0], 5);
    }

    [Fact]
    public void Clipping_by_norm_scales_all_gradients_together_and_returns_the_original_norm()
    {
        var a = Param(0f, 0f);
        var b = Param(0f);
        a.Grad = Tensor.Vector(3f, 0f);
        b.Grad = Tensor.Vector(4f);
        var norm = Optimizer.ClipGradNorm([a, b], 1f);
        Assert.Equal(5f, norm, 5);
        Assert.Equal(0.6f, a.Grad.Span[0], 4);
        Assert.Equal(0.8f, b.Grad.Span[0], 4);
    }

    [Fact]
    public void Zero_grad_reads_as_zeros_and_the_next_backward_overwrites_instead_of_adding()
    {
        var p = Param(1f, 2f);
        (p * 3f).Sum().Backward();
        (p * 3f).Sum().Backward();
        Assert.Equal(new[] { 6f, 6f }, p.Grad!.ToArray()); // accumulates without ZeroGrad
        var opt = new Sgd([p], learningRate: 1f);
        opt.ZeroGrad();
        Assert.True(p.HasNoGrad);
        (p * 5f).Sum().Backward();
        Assert.Equal(new[] { 5f, 5f }, p.Grad!.ToArray());
        opt.ZeroGrad();
        Assert.Equal(new[] { 0f, 0f }, p.Grad!.ToArray());
    }

    [Fact]
    public void Parameters_without_a_gradient_since_zero_grad_are_not_moved()
    {
        var used = Param(1f);
        var unused = Param(1f);
        var opt = new Adam([used, unused], learningRate: 0.1f);
        (used * 2f).Sum().Backward();
        opt.Step();
        opt.ZeroGrad();
        (used * 2f).Sum().Backward();
        opt.Step();
        Assert.Equal(1f, unused.Span[0]);
        Assert.NotEqual(1f, used.Span[0]);
    }

    [Fact]
    public void Bad_hyperparameters_are_rejected_with_their_values()
    {
        var p = Param(1f);
        Assert.Contains("beta1=1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta1: 1f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], learningRate: -1f));
        Assert.Throws<ArgumentException>(() => new Adam([Tensor.Vector(1f)]));
    }
}
