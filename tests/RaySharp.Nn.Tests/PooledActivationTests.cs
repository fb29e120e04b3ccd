using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>
/// Mlp's hidden activations live in pooled arrays: freed right away when nothing recorded reads them
/// (inference) and after Backward() otherwise, unless the graph is retained.
/// </summary>
public class PooledActivationTests
{
    private static Mlp Net() => new(6, [32, 32], 3, Activation.ReLU, rng: new Rng(70));

    private static float[][] Grads(Mlp net) => net.Parameters().Select(p => p.Grad!.ToArray()).ToArray();

    private static Tensor Unpooled(Mlp net, Tensor x)
    {
        var h = x;
        for (var l = 0; l < net.Layers.Count; l++)
            h = Tensor.Linear(h, net.Layers[l].Weight, net.Layers[l].Bias, l < net.Layers.Count - 1 ? Activation.ReLU : Activation.Identity);
        return h;
    }

    [Fact]
    public void Training_steps_with_pooled_activations_match_unpooled_linear_layers()
    {
        var net = Net();
        var y = GradCheck.Random(71, 40, 3);
        for (var step = 0; step < 4; step++)
        {
            // A new input each step, so a recycled array holding the previous step's values would show.
            var x = GradCheck.Random(72 + (ulong)step, 40, 6);
            foreach (var p in net.Parameters()) p.ZeroGrad();
            Loss.Mse(Unpooled(net, x), y).Backward();
            var expected = Grads(net);
            foreach (var p in net.Parameters()) p.ZeroGrad();
            var loss = Loss.Mse(net.Forward(x), y);
            loss.Backward();
            Assert.Equal(expected.Length, Grads(net).Length);
            for (var i = 0; i < expected.Length; i++)
                Assert.Equal(expected[i], Grads(net)[i]);
        }
    }

    [Fact]
    public void Inference_frees_hidden_activations_at_once_and_gives_the_same_outputs()
    {
        var net = Net();
        using var _ = Tensor.NoGrad();
        for (var step = 0; step < 4; step++)
        {
            var x = GradCheck.Random(80 + (ulong)step, 40, 6);
            Assert.Equal(Unpooled(net, x).ToArray(), net.Forward(x).ToArray());
        }
    }

    [Fact]
    public void A_second_backward_pass_through_a_freed_graph_throws_and_says_how_to_keep_it()
    {
        var net = Net();
        var x = GradCheck.Random(90, 40, 6);
        var output = net.Forward(x);
        Loss.Mse(output, Tensor.Zeros(40, 3)).Backward();
        var e = Assert.Throws<InvalidOperationException>(() => output.Sum().Backward());
        Assert.Contains("retainGraph: true", e.Message);
    }

    [Fact]
    public void A_retained_graph_can_be_back_propagated_twice_and_gradients_add_up()
    {
        var net = Net();
        var x = GradCheck.Random(91, 40, 6);
        var loss = Loss.Mse(net.Forward(x), Tensor.Zeros(40, 3));
        loss.Backward(retainGraph: true);
        var once = Grads(net);
        loss.Backward();
        var twice = Grads(net);
        for (var i = 0; i < once.Length; i++)
            for (var j = 0; j < once[i].Length; j++)
                Assert.Equal(2 * once[i][j], twice[i][j], 5);
    }
}
