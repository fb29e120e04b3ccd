using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class MatMulTests
{
    private static Tensor R(ulong seed, params int[] shape) => GradCheck.Random(seed, shape);

    [Fact]
    public void Batched_matmul_multiplies_each_pair_of_matrices()
    {
        var a = R(1, 2, 3, 4);
        var b = R(2, 2, 4, 5);
        var y = a.MatMul(b);
        Assert.Equal(new[] { 2, 3, 5 }, y.ShapeArray());
        for (var i = 0; i < 2; i++)
            Assert.Equal(a.Select(i).MatMul(b.Select(i)).ToArray(), y.Select(i).ToArray());
    }

    [Fact]
    public void Batch_dimensions_broadcast_like_pytorch()
    {
        var a = R(3, 2, 1, 3, 4);
        var b = R(4, 3, 4, 2);
        var y = a.MatMul(b);
        Assert.Equal(new[] { 2, 3, 3, 2 }, y.ShapeArray());
        for (var i = 0; i < 2; i++)
            for (var j = 0; j < 3; j++)
                Assert.Equal(a.Select(i).Select(0).MatMul(b.Select(j)).ToArray(), y.Select(i).Select(j).ToArray());
        Assert.Equal(new[] { 2, 3, 5 }, R(5, 2, 3, 4).MatMul(R(6, 4, 5)).ShapeArray());
        Assert.Equal(new[] { 2, 3, 5 }, R(5, 3, 4).MatMul(R(6, 2, 4, 5)).ShapeArray());
    }

    [Fact]
    public void Vector_operands_lose_their_dimension()
    {
        var v = R(7, 4);
        var m = R(8, 2, 4, 3);
        Assert.Equal(new[] { 2, 3 }, v.MatMul(m).ShapeArray());
        Assert.Equal(new[] { 2, 4 }, m.MatMul(R(9, 3)).ShapeArray());
        Assert.Equal(v.Square().Sum().Item(), v.MatMul(v).Item(), 5);
        Assert.Equal(0, v.MatMul(v).Rank);
    }

    [Fact]
    public void Batched_and_broadcast_matmul_have_correct_gradients()
    {
        GradCheck.Check(x => x[0].MatMul(x[1]), R(10, 2, 3, 4), R(11, 2, 4, 2));
        GradCheck.Check(x => x[0].MatMul(x[1]), R(12, 2, 1, 3, 4), R(13, 3, 4, 2));
        GradCheck.Check(x => x[0].MatMul(x[1]), R(14, 2, 3, 4), R(15, 4, 2));
        GradCheck.Check(x => x[0].MatMul(x[1]), R(16, 4), R(17, 2, 4, 3));
        GradCheck.Check(x => x[0].MatMul(x[1]), R(18, 2, 3, 4), R(19, 4));
    }

    [Fact]
    public void Mismatched_matmul_shapes_are_named()
    {
        var e = Assert.Throws<ArgumentException>(() => R(1, 2, 3, 4).MatMul(R(2, 2, 5, 4)));
        Assert.Contains("[2, 3, 4] × [2, 5, 4]", e.Message);
        var b = Assert.Throws<ArgumentException>(() => R(1, 2, 3, 4).MatMul(R(2, 3, 4, 4)));
        Assert.Contains("cannot be broadcast", b.Message);
        Assert.Throws<ArgumentException>(() => Tensor.Scalar(1).MatMul(R(2, 1, 1)));
    }
}
