using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class DropoutAndModeTests
{
    [Fact]
    public void Dropout_in_training_zeroes_about_p_of_the_elements_and_scales_the_rest()
    {
        var drop = new Dropout(0.25f, new Rng(1));
        var y = drop.Forward(Tensor.Ones(100, 100)).ToArray();
        var zeros = y.Count(v => v == 0);
        Assert.InRange(zeros, 2300, 2700); // binomial(10000, 0.25): sd ≈ 43
        Assert.All(y.Where(v => v != 0), v => Assert.Equal(1f / 0.75f, v));
    }

    [Fact]
    public void Dropout_in_eval_mode_is_the_identity()
    {
        var drop = new Dropout(0.9f, new Rng(1));
        drop.Eval();
        var x = GradCheck.Random(2, 4, 5);
        Assert.Same(x, drop.Forward(x));
        drop.Train();
        Assert.NotEqual(x.ToArray(), drop.Forward(x).ToArray());
    }

    [Fact]
    public void Dropout_gradient_follows_the_mask()
    {
        GradCheck.Check(x => x[0].Dropout(0.4f, new Rng(3)), GradCheck.Random(4, 3, 6));
        var x = GradCheck.Random(5, 50);
        x.RequiresGrad = true;
        var y = x.Dropout(0.5f, new Rng(6));
        y.Sum().Backward();
        for (var i = 0; i < 50; i++) Assert.Equal(y[i] == 0 ? 0f : 2f, x.Grad![i]);
    }

    [Fact]
    public void Dropout_rejects_probabilities_outside_zero_to_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.5f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Ones(2).Dropout(-0.1f, new Rng(1)));
        Assert.Equal([0f, 0f], Tensor.Ones(2).Dropout(1f, new Rng(1)).ToArray());
    }

    [Fact]
    public void Train_and_eval_reach_every_nested_module()
    {
        var inner = new Sequential(new Linear(2, 2, rng: new Rng(1)), new Dropout(0.5f));
        var model = new Sequential(inner, new BatchNorm1d(2));
        Assert.True(model.IsTraining);
        model.Eval();
        Assert.False(inner.Modules[1].IsTraining);
        Assert.False(model.Modules[1].IsTraining);
        model.Train();
        Assert.True(inner.Modules[1].IsTraining);
    }

    [Fact]
    public void Flatten_and_reshape_are_views_with_gradients()
    {
        var x = GradCheck.Random(7, 2, 3, 4, 5);
        Assert.Equal(new[] { 2, 60 }, new Flatten().Forward(x).ShapeArray());
        Assert.Equal(new[] { 2, 12, 5 }, x.Flatten(1, 2).ShapeArray());
        Assert.Equal(new[] { 120 }, x.Flatten(0).ShapeArray());
        var r = new Reshape(6, -1).Forward(x);
        Assert.Equal(new[] { 2, 6, 10 }, r.ShapeArray());
        r.Span[0] = 42f;
        Assert.Equal(42f, x[0, 0, 0, 0]);
        GradCheck.Check(t => new Reshape(4, 15).Forward(new Flatten().Forward(t[0])) * 2f, GradCheck.Random(8, 2, 3, 4, 5));
        Assert.Throws<ArgumentException>(() => new Reshape(7, -1).Forward(x));
        Assert.Throws<ArgumentException>(() => new Reshape(-1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Flatten(2, 1));
    }
}
