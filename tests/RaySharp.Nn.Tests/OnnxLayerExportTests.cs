using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>Every exportable layer, exported and run in ONNX Runtime against Nn's evaluation-mode output at two batch sizes.</summary>
public class OnnxLayerExportTests
{
    private static Module Trained(BatchNorm bn, int[] shape)
    {
        // A few training batches so that the running statistics are not the defaults.
        for (var i = 0; i < 3; i++) bn.Forward(GradCheck.Random((ulong)(50 + i), [4, .. shape]) * 2f + 1f);
        return bn;
    }

    private static readonly Dictionary<string, (Func<Module> Make, int[] Sample)> Models = new()
    {
        ["conv2d"] = (() => new Sequential(new Conv2d(3, 4, 3, stride: 2, padding: 1, rng: new Rng(1)), new ActivationLayer(Activation.ReLU)), [3, 9, 8]),
        ["conv2d-dilated-grouped"] = (() => new Conv2d(4, 6, 3, padding: 2, dilation: 2, groups: 2, rng: new Rng(2)), [4, 7, 7]),
        ["conv1d"] = (() => new Conv1d(3, 4, 3, stride: 2, padding: 1, dilation: 2, rng: new Rng(3)), [3, 11]),
        ["conv1d-depthwise-no-bias"] = (() => new Conv1d(4, 4, 2, groups: 4, bias: false, rng: new Rng(4)), [4, 6]),
        ["maxpool2d"] = (() => new MaxPool2d(3, 2, 1), [2, 7, 6]),
        ["maxpool1d"] = (() => new MaxPool1d(2), [3, 8]),
        ["avgpool2d"] = (() => new AvgPool2d(3, 2, 1), [2, 7, 6]),
        ["avgpool2d-exclude-pad"] = (() => new AvgPool2d(2, 1, 1, countIncludePad: false), [2, 5, 5]),
        ["avgpool1d"] = (() => new AvgPool1d(3, 1, 1), [2, 7]),
        ["adaptive-avgpool2d-global"] = (() => new AdaptiveAvgPool2d(1, 1), [3, 5, 6]),
        ["adaptive-avgpool2d"] = (() => new AdaptiveAvgPool2d(2, 3), [3, 4, 6]),
        ["adaptive-avgpool1d"] = (() => new AdaptiveAvgPool1d(2), [2, 8]),
        ["batchnorm2d"] = (() => Trained(new BatchNorm2d(3), [3, 4, 4]), [3, 4, 4]),
        ["batchnorm1d"] = (() => Trained(new BatchNorm1d(5), [5]), [5]),
        ["batchnorm1d-sequence-no-affine"] = (() => Trained(new BatchNorm1d(5, affine: false), [5, 6]), [5, 6]),
        ["layernorm"] = (() => new Sequential(new Linear(6, 6, rng: new Rng(5)), new LayerNorm(6)), [4, 6]),
        ["dropout-left-in-training-mode"] = (() => new Sequential(new Linear(4, 4, rng: new Rng(6)), new Dropout(0.5f, new Rng(7))), [4]),
        ["flatten-linear"] = (() => new Sequential(new Conv2d(2, 3, 3, rng: new Rng(8)), new Flatten(), new Linear(27, 5, rng: new Rng(9))), [2, 5, 5]),
        ["flatten-middle-dims"] = (() => new Flatten(1, 2), [2, 3, 4]),
        ["reshape"] = (() => new Sequential(new Reshape(3, 8), new Linear(8, 2, rng: new Rng(10))), [24]),
        ["embedding"] = (() => new Embedding(10, 4, new Rng(11)), [5]),
        ["lstm-two-layers-batch-first"] = (() => new Lstm(3, 5, layers: 2, batchFirst: true, rng: new Rng(12)), [4, 3]),
        ["lstm-time-major-no-bias"] = (() => new Lstm(3, 4, bias: false, rng: new Rng(13)), [2, 3]),
        ["gru-two-layers-batch-first"] = (() => new Gru(3, 5, layers: 2, batchFirst: true, rng: new Rng(14)), [4, 3]),
        ["multihead-attention"] = (() => new MultiheadAttention(8, 2, rng: new Rng(15)), [5, 8]),
        ["transformer-encoder"] = (() => new TransformerEncoderLayer(8, 2, 16, rng: new Rng(16)), [5, 8]),
        ["transformer-encoder-prenorm-gelu"] = (() => new TransformerEncoderLayer(8, 4, 16, activation: Activation.Gelu, normFirst: true, rng: new Rng(17)), [5, 8]),
        ["cnn"] = (() => new Sequential(
            new Conv2d(1, 8, 3, padding: 1, rng: new Rng(18)), new BatchNorm2d(8), new ActivationLayer(Activation.ReLU), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, rng: new Rng(19)), new ActivationLayer(Activation.ReLU), new MaxPool2d(2),
            new Flatten(), new Dropout(0.2f), new Linear(16 * 7 * 7, 10, rng: new Rng(20))), [1, 28, 28]),
    };

    public static TheoryData<string> Names() => [.. Models.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public void An_exported_layer_computes_the_same_outputs_in_onnx_runtime(string name)
    {
        var (make, sample) = Models[name];
        var model = make();
        var training = model.IsTraining;
        var bytes = OnnxExport.ToBytes(model, sample);
        Assert.Equal(training, model.IsTraining); // export does not change the module's mode
        using var session = new InferenceSession(bytes);
        model.Eval();
        foreach (var batch in new[] { 1, 3 })
        {
            var x = name == "embedding"
                ? Tensor.FromArray(Enumerable.Range(0, batch * 5).Select(i => (float)(i * 7 % 10)).ToArray(), batch, 5)
                : Tensor.Uniform(new Rng((ulong)batch), -1f, 1f, [batch, .. sample]);
            Tensor expected;
            using (Tensor.NoGrad()) expected = model.Forward(x);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.ToArray(), x.ShapeArray()))]);
            var output = results.Single(r => r.Name == "output").AsTensor<float>();
            Assert.Equal(expected.ShapeArray(), output.Dimensions.ToArray());
            var actual = output.ToArray();
            for (var i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(expected.Span[i] - actual[i]) <= 1e-5f * Math.Max(1f, Math.Abs(expected.Span[i])),
                    $"{name}, batch {batch}, output {i}: Nn {expected.Span[i]}, ONNX Runtime {actual[i]}");
        }
    }

    [Fact]
    public void Adaptive_pools_that_onnx_cannot_express_are_refused_with_the_sizes()
    {
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(new AdaptiveAvgPool2d(2, 2), [1, 5, 5]));
        Assert.Contains("[5, 5]", e.Message);
    }

    [Fact]
    public void Models_not_starting_with_a_dense_layer_need_a_sample_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(new Sequential(new Conv2d(1, 1, 1, rng: new Rng(1)))));
        Assert.Contains("sampleShape", e.Message);
    }
}
