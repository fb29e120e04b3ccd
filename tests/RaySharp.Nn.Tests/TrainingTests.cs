using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class TrainingTests
{
    private static float TrainXor(ulong seed)
    {
        var rng = new Rng(seed);
        var net = new Mlp(2, [8], 1, Activation.Tanh, rng: rng);
        var opt = new Adam(net.Parameters(), learningRate: 0.05f);
        var x = Tensor.FromArray([0, 0, 0, 1, 1, 0, 1, 1], 4, 2);
        var y = Tensor.FromArray([0, 1, 1, 0], 4, 1);
        var loss = 0f;
        for (var step = 0; step < 500; step++)
        {
            opt.ZeroGrad();
            var l = Loss.Mse(net.Forward(x), y);
            l.Backward();
            opt.Step();
            loss = l.Item();
        }
        return loss;
    }

    [Fact]
    public void An_mlp_learns_xor_with_adam_and_the_same_seed_gives_the_same_loss()
    {
        var first = TrainXor(7);
        Assert.True(first < 1e-3f, $"XOR loss after 500 Adam steps was {first}");
        Assert.Equal(first, TrainXor(7));
    }

    [Fact]
    public void An_mlp_fits_a_sine_regression_with_sgd_momentum()
    {
        var rng = new Rng(3);
        var net = new Mlp(1, [16, 16], 1, Activation.Tanh, rng: rng);
        var opt = new Sgd(net.Parameters(), learningRate: 0.05f, momentum: 0.9f);
        var xs = Tensor.Uniform(rng, -3, 3, 64, 1);
        var ys = xs.Clone();
        for (var i = 0; i < ys.Length; i++) ys.Span[i] = MathF.Sin(xs.Span[i]);
        var first = Loss.Mse(net.Forward(xs), ys).Item();
        var loss = first;
        for (var step = 0; step < 600; step++)
        {
            opt.ZeroGrad();
            var l = Loss.Mse(net.Forward(xs), ys);
            l.Backward();
            opt.ClipGradNorm(5f);
            opt.Step();
            loss = l.Item();
        }
        Assert.True(loss < 0.01f, $"sine regression loss went from {first} to {loss}");
    }

    [Fact]
    public void A_small_classifier_separates_three_gaussian_blobs_with_adamw()
    {
        var rng = new Rng(11);
        const int perClass = 50;
        var x = new float[3 * perClass * 2];
        var labels = new int[3 * perClass];
        float[][] centres = [[0, 2], [-2, -1], [2, -1]];
        for (var c = 0; c < 3; c++)
            for (var i = 0; i < perClass; i++)
            {
                var row = c * perClass + i;
                x[row * 2] = centres[c][0] + (float)rng.NextNormal() * 0.5f;
                x[row * 2 + 1] = centres[c][1] + (float)rng.NextNormal() * 0.5f;
                labels[row] = c;
            }
        var inputs = Tensor.FromArray(x, 3 * perClass, 2);
        var net = new Mlp(2, [16], 3, Activation.ReLU, rng: rng);
        var opt = new AdamW(net.Parameters(), learningRate: 0.02f);
        var loss = 0f;
        for (var step = 0; step < 300; step++)
        {
            opt.ZeroGrad();
            var l = Loss.CrossEntropy(net.Forward(inputs), labels);
            l.Backward();
            opt.Step();
            loss = l.Item();
        }
        var predicted = net.Forward(inputs).ArgMax(-1);
        var accuracy = predicted.Zip(labels).Count(p => p.First == p.Second) / (double)labels.Length;
        Assert.True(loss < 0.1f, $"cross-entropy after 300 AdamW steps was {loss}");
        Assert.True(accuracy >= 0.98, $"training accuracy was {accuracy:P1}");
    }
}
