using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>Sequential's fused Conv2d → activation → MaxPool2d pass, taken when no gradient is recorded.</summary>
public class FusedConvolutionTests
{
    public static TheoryData<Activation?, bool, int, int> Chains => new()
    {
        { Activation.ReLU, true, 1, 0 },
        { Activation.Tanh, true, 2, 1 },
        { Activation.Sigmoid, false, 1, 0 },
        { null, true, 2, 0 },
        { Activation.Gelu, true, 1, 1 }, // not monotone: left to the modules one by one
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void A_conv_chain_without_gradient_gives_the_values_of_its_modules_one_by_one(Activation? activation, bool bias, int groups, int poolPadding)
    {
        var rng = new Rng(3);
        var modules = new List<Module> { new Conv2d(4, 6, 3, padding: 1, groups: groups, bias: bias, rng: rng) };
        if (activation is { } a) modules.Add(new ActivationLayer(a));
        modules.Add(new MaxPool2d(3, stride: 2, padding: poolPadding));
        modules.Add(new Flatten());
        var model = new Sequential([.. modules]);
        var x = GradCheck.Random(4, 3, 4, 9, 8);
        using var _ = Tensor.NoGrad();
        var expected = modules.Aggregate(x, (h, m) => m.Forward(h)).ToArray();
        var actual = model.Forward(x).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
    }

    [Fact]
    public void A_conv_relu_pool_chain_without_gradient_does_not_allocate_the_full_size_convolution_output()
    {
        var rng = new Rng(5);
        var model = new Sequential(new Conv2d(3, 8, 3, padding: 1, rng: rng), new ActivationLayer(Activation.ReLU), new MaxPool2d(2));
        var x = GradCheck.Random(6, 2, 3, 32, 32);
        using var _ = Tensor.NoGrad();
        model.Forward(x); // warms up the JIT and the array pool
        var before = GC.GetAllocatedBytesForCurrentThread();
        var y = model.Forward(x);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal([2, 8, 16, 16], y.ShapeArray());
        Assert.True(allocated < 2 * 8 * 32 * 32 * sizeof(float), $"the forward pass allocated {allocated} bytes, as much as the unpooled convolution output");
    }

    [Fact]
    public void A_conv_chain_that_needs_gradients_still_records_them()
    {
        var rng = new Rng(7);
        var conv = new Conv2d(2, 3, 3, padding: 1, rng: rng);
        var model = new Sequential(conv, new ActivationLayer(Activation.ReLU), new MaxPool2d(2), new Flatten());
        model.Forward(GradCheck.Random(8, 2, 2, 6, 6)).Sum().Backward();
        Assert.NotNull(conv.Weight.Grad);
        Assert.Contains(conv.Weight.Grad!.ToArray(), g => g != 0);
    }
}
