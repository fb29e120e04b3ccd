using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class OnnxExportTests
{
    private static float[] RunInOnnxRuntime(byte[] model, Tensor input)
    {
        using var session = new InferenceSession(model);
        var dense = new DenseTensor<float>(input.ToArray(), input.ShapeArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", dense)]);
        return results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
    }

    [Theory]
    [InlineData(Activation.ReLU, Activation.Identity)]
    [InlineData(Activation.Tanh, Activation.Sigmoid)]
    [InlineData(Activation.Gelu, Activation.Tanh)]
    [InlineData(Activation.Softplus, Activation.Identity)]
    public void An_exported_mlp_computes_the_same_outputs_in_onnx_runtime(Activation hidden, Activation output)
    {
        var net = new Mlp(6, [16, 8], 3, hidden, output, rng: new Rng(7));
        var x = Tensor.Uniform(new Rng(8), -2, 2, 5, 6);
        Tensor expected;
        using (Tensor.NoGrad()) expected = net.Forward(x);
        var actual = RunInOnnxRuntime(OnnxExport.ToBytes(net), x);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(expected.Span[i] - actual[i]) < 1e-5f, $"output {i}: ours {expected.Span[i]}, ONNX Runtime {actual[i]}");
    }

    [Fact]
    public void The_exported_batch_dimension_is_symbolic()
    {
        var net = new Sequential(new Linear(4, 2, rng: new Rng(1)), new ActivationLayer(Activation.ReLU), new Linear(2, 1, bias: false, rng: new Rng(2)));
        var bytes = OnnxExport.ToBytes(net);
        foreach (var batch in new[] { 1, 7 })
        {
            var x = Tensor.Uniform(new Rng(3), -1, 1, batch, 4);
            Assert.Equal(net.Forward(x).ToArray(), RunInOnnxRuntime(bytes, x), new FloatTolerance(1e-5f));
        }
    }

    [Fact]
    public void Modules_without_an_onnx_mapping_are_rejected_by_name()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(new Sequential(new Linear(2, 2, rng: new Rng(1)), new Doubler())));
        Assert.Contains("Doubler", e.Message);
    }

    private sealed class Doubler : Module
    {
        public override Tensor Forward(Tensor input) => input * 2f;
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
