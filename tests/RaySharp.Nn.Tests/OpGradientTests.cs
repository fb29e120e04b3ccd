using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class OpGradientTests
{
    private static Tensor R(ulong seed, params int[] shape) => GradCheck.Random(seed, shape);

    [Fact]
    public void Add_with_broadcasting_has_correct_gradients() =>
        GradCheck.Check(x => x[0] + x[1], R(1, 3, 4), R(2, 4));

    [Fact]
    public void Sub_with_broadcasting_over_a_middle_dimension_has_correct_gradients() =>
        GradCheck.Check(x => x[0] - x[1], R(1, 2, 3, 4), R(2, 2, 1, 4));

    [Fact]
    public void Mul_with_a_column_broadcast_has_correct_gradients() =>
        GradCheck.Check(x => x[0] * x[1], R(3, 3, 4), R(4, 3, 1));

    [Fact]
    public void Div_has_correct_gradients() =>
        GradCheck.Check(x => x[0] / x[1], R(5, 2, 3), GradCheck.Positive(6, 2, 3));

    [Fact]
    public void Scalar_arithmetic_has_correct_gradients() =>
        GradCheck.Check(x => (2f - x[0] * 3f + 1f) / 4f, R(7, 5));

    [Fact]
    public void Maximum_and_minimum_have_correct_gradients() =>
        GradCheck.Check(x => x[0].Maximum(x[1]) + x[0].Minimum(x[1]) * 2f, GradCheck.AwayFromZero(8, 6), Tensor.Zeros(6));

    [Fact]
    public void Exp_log_sqrt_and_square_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].Exp(), R(9, 4));
        GradCheck.Check(x => x[0].Log(), GradCheck.Positive(10, 4));
        GradCheck.Check(x => x[0].Sqrt(), GradCheck.Positive(11, 4));
        GradCheck.Check(x => x[0].Square(), R(12, 4));
    }

    [Fact]
    public void Abs_and_clamp_have_correct_gradients_away_from_their_kinks()
    {
        GradCheck.Check(x => x[0].Abs(), GradCheck.AwayFromZero(13, 8));
        GradCheck.Check(x => x[0].Clamp(-0.5f, 0.5f), Tensor.Vector(-0.9f, -0.3f, 0.1f, 0.4f, 0.8f));
    }

    [Theory]
    [InlineData(Activation.ReLU)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.Softplus)]
    [InlineData(Activation.Identity)]
    public void Activations_have_correct_gradients(Activation activation) =>
        GradCheck.Check(x => x[0].Apply(activation) * 1f, GradCheck.AwayFromZero(14, 3, 5));

    [Fact]
    public void Full_and_dimension_reductions_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].Sum(), R(15, 2, 3));
        GradCheck.Check(x => x[0].Mean(), R(16, 2, 3));
        GradCheck.Check(x => x[0].Sum(1), R(17, 2, 3, 4));
        GradCheck.Check(x => x[0].Mean(0, keepDim: true), R(18, 2, 3));
        GradCheck.Check(x => x[0].Max(-1), R(19, 3, 5));
        GradCheck.Check(x => x[0].Max(0), R(20, 3, 5));
    }

    [Fact]
    public void Softmax_log_softmax_and_log_sum_exp_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].LogSoftmax(), R(21, 3, 4));
        GradCheck.Check(x => x[0].Softmax(0), R(22, 3, 4));
        GradCheck.Check(x => x[0].LogSumExp(1), R(23, 3, 4));
    }

    [Fact]
    public void MatMul_and_linear_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].MatMul(x[1]), R(24, 3, 5), R(25, 5, 2));
        GradCheck.Check(x => Tensor.Linear(x[0], x[1], x[2]), R(26, 4, 3), R(27, 2, 3), R(28, 2));
        GradCheck.Check(x => Tensor.Linear(x[0], x[1], null), R(29, 2, 2, 3), R(30, 5, 3));
    }

    [Fact]
    public void Views_narrow_concat_permute_gather_and_index_select_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].Reshape(3, -1).Slice(1, 2) * 2f, R(31, 2, 6));
        GradCheck.Check(x => x[0].Select(1).Square(), R(32, 3, 4));
        GradCheck.Check(x => x[0].Narrow(1, 1, 2), R(33, 2, 4, 2));
        GradCheck.Check(x => Tensor.Concat([x[0], x[1]], 1), R(34, 2, 3), R(35, 2, 2));
        GradCheck.Check(x => x[0].Permute(2, 0, 1) * x[1], R(36, 2, 3, 4), R(37, 4, 2, 3));
        GradCheck.Check(x => x[0].Transpose(), R(38, 2, 3));
        GradCheck.Check(x => x[0].Gather([2, 0, 1]), R(39, 3, 4));
        GradCheck.Check(x => x[0].IndexSelect([1, 1, 0]), R(40, 2, 3));
    }

    [Theory]
    [InlineData(Activation.ReLU)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Sigmoid)]
    [InlineData(Activation.Gelu)]
    public void Fused_linear_activation_has_correct_gradients(Activation activation) =>
        GradCheck.Check(x => Tensor.Linear(x[0], x[1], x[2], activation), GradCheck.AwayFromZero(46, 3, 4), R(47, 5, 4), R(48, 5));

    [Theory]
    [InlineData(Activation.ReLU)]
    [InlineData(Activation.Tanh)]
    [InlineData(Activation.Softplus)]
    public void Mlp_parameters_receive_correct_gradients(Activation activation)
    {
        // The checker perturbs the module's own parameter tensors, so this checks Mlp.Forward end to end.
        var net = new Mlp(3, [4, 4], 2, activation, Activation.Sigmoid, rng: new Rng(49));
        var x = GradCheck.AwayFromZero(50, 5, 3);
        GradCheck.Check(_ => net.Forward(x), net.Parameters().ToArray());
    }

    [Fact]
    public void Losses_have_correct_gradients()
    {
        GradCheck.Check(x => Loss.Mse(x[0], x[1]), R(41, 3, 2), R(42, 3, 2));
        GradCheck.Check(x => Loss.Huber(x[0] * 3f, x[1]), R(43, 8), R(44, 8));
        GradCheck.Check(x => Loss.CrossEntropy(x[0], [0, 2, 1]), R(45, 3, 4));
    }

    [Fact]
    public void A_tensor_used_twice_accumulates_both_gradients()
    {
        var x = Tensor.Vector(1f, 2f, 3f);
        x.RequiresGrad = true;
        (x * x + x).Sum().Backward();
        Assert.Equal(new[] { 3f, 5f, 7f }, x.Grad!.ToArray());
    }

    [Fact]
    public void No_grad_scope_records_nothing()
    {
        var x = Tensor.Vector(1f, 2f);
        x.RequiresGrad = true;
        Tensor y;
        using (Tensor.NoGrad()) y = x * 2f;
        Assert.False(y.RequiresGrad);
        Assert.True(Tensor.IsGradEnabled);
    }
}
