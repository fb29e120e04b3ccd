namespace RaySharp.Nn;

/// <summary>
/// Emits the ONNX nodes of one module. Each step also runs the module on a sample input (batch 1,
/// evaluation mode, no gradients) so that later steps know the shapes they receive.
/// </summary>
internal static class OnnxModuleWriter
{
    public static (string Output, Tensor Sample) Emit(OnnxGraph g, Module module, string x, Tensor sample)
    {
        switch (module)
        {
            case Sequential seq:
                foreach (var m in seq.Modules) (x, sample) = Emit(g, m, x, sample);
                return (x, sample);
            case Mlp mlp:
                for (var i = 0; i < mlp.Layers.Count; i++)
                {
                    (x, sample) = Emit(g, mlp.Layers[i], x, sample);
                    (x, sample) = Emit(g, new ActivationLayer(i < mlp.Layers.Count - 1 ? mlp.Activation : mlp.OutputActivation), x, sample);
                }
                return (x, sample);
            case Dropout:
                return (x, sample);
            case TransformerEncoderLayer block:
                return (Encoder(g, block, x), block.Forward(sample));
        }
        var y = module switch
        {
            Linear l => Linear(g, x, sample.Rank, l.Weight, l.Bias),
            ActivationLayer a => Activation(g, a.Activation, x),
            Conv2d c => g.Node("Conv", ConvInputs(g, c.Weight, c.Bias, x), null, OnnxGraph.Ints("kernel_shape", c.KernelSize, c.KernelSize),
                OnnxGraph.Ints("strides", c.Stride, c.Stride), OnnxGraph.Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding),
                OnnxGraph.Ints("dilations", c.Dilation, c.Dilation), OnnxGraph.Int("group", c.Groups)),
            Conv1d c => g.Node("Conv", ConvInputs(g, c.Weight, c.Bias, x), null, OnnxGraph.Ints("kernel_shape", c.KernelSize),
                OnnxGraph.Ints("strides", c.Stride), OnnxGraph.Ints("pads", c.Padding, c.Padding),
                OnnxGraph.Ints("dilations", c.Dilation), OnnxGraph.Int("group", c.Groups)),
            MaxPool2d p => Pool(g, "MaxPool", x, 2, p.KernelSize, p.Stride, p.Padding, null),
            MaxPool1d p => Pool(g, "MaxPool", x, 1, p.KernelSize, p.Stride, p.Padding, null),
            AvgPool2d p => Pool(g, "AveragePool", x, 2, p.KernelSize, p.Stride, p.Padding, p.CountIncludePad),
            AvgPool1d p => Pool(g, "AveragePool", x, 1, p.KernelSize, p.Stride, p.Padding, p.CountIncludePad),
            AdaptiveAvgPool2d p => Adaptive(g, x, sample, [p.OutputHeight, p.OutputWidth]),
            AdaptiveAvgPool1d p => Adaptive(g, x, sample, [p.OutputSize]),
            BatchNorm bn => g.Node("BatchNormalization",
                [x, g.Constant("bn_scale", bn.Weight ?? Tensor.Ones(bn.Features)), g.Constant("bn_bias", bn.Bias ?? Tensor.Zeros(bn.Features)),
                 g.Constant("bn_mean", bn.RunningMean), g.Constant("bn_var", bn.RunningVar)], null, OnnxGraph.Float("epsilon", bn.Epsilon)),
            LayerNorm ln => LayerNorm(g, ln, x),
            Flatten f => FlattenNodes(g, f, x, sample),
            Reshape r => g.Node("Reshape", [x, g.Int64s("shape", [0, .. r.Shape.ToArray().Select(d => (long)d)])]),
            Embedding e => g.Node("Gather", [g.Constant("embedding", e.Weight), g.Node("Cast", [x], null, OnnxGraph.Int("to", 7))], null, OnnxGraph.Int("axis", 0)),
            Recurrent r => OnnxRecurrentWriter.Emit(g, r, x),
            MultiheadAttention mha => SelfAttention(g, mha, x),
            _ => throw new NotSupportedException($"ONNX export does not support {module.GetType().Name}; see OnnxExport for the supported modules."),
        };
        return (y, module.Forward(sample));
    }

    /// <summary>x·Wᵀ + b: one Gemm for [N, in], MatMul and Add for inputs of higher rank.</summary>
    public static string Linear(OnnxGraph g, string x, int rank, Tensor weight, Tensor? bias)
    {
        if (rank == 2)
        {
            List<string> inputs = [x, g.Constant("weight", weight)];
            if (bias is not null) inputs.Add(g.Constant("bias", bias));
            return g.Node("Gemm", inputs, null, OnnxGraph.Int("transB", 1));
        }
        var y = g.Node("MatMul", [x, g.Constant("weight_t", weight.Transpose())]);
        return bias is null ? y : g.Node("Add", [y, g.Constant("bias", bias)]);
    }

    private static string[] ConvInputs(OnnxGraph g, Tensor weight, Tensor? bias, string x) =>
        bias is null ? [x, g.Constant("conv_weight", weight)] : [x, g.Constant("conv_weight", weight), g.Constant("conv_bias", bias)];

    private static string Pool(OnnxGraph g, string op, string x, int dims, int kernel, int stride, int padding, bool? countIncludePad)
    {
        List<ProtoWriter> attributes =
        [
            OnnxGraph.Ints("kernel_shape", Enumerable.Repeat((long)kernel, dims).ToArray()),
            OnnxGraph.Ints("strides", Enumerable.Repeat((long)stride, dims).ToArray()),
            OnnxGraph.Ints("pads", Enumerable.Repeat((long)padding, 2 * dims).ToArray()),
        ];
        if (countIncludePad is { } include) attributes.Add(OnnxGraph.Int("count_include_pad", include ? 1 : 0));
        return g.Node(op, [x], null, [.. attributes]);
    }

    /// <summary>Adaptive average pooling: global pooling, or a plain average pool when every output cell covers a whole, equal window.</summary>
    private static string Adaptive(OnnxGraph g, string x, Tensor sample, int[] output)
    {
        var input = sample.Shape[2..].ToArray();
        if (output.All(o => o == 1)) return g.Node("GlobalAveragePool", [x]);
        if (input.Zip(output).Any(p => p.First % p.Second != 0))
            throw new NotSupportedException($"ONNX export of adaptive average pooling needs output sizes that divide the input sizes (or 1); got input {Tensor.FormatShape(input)} and output {Tensor.FormatShape(output)}.");
        var kernel = input.Zip(output).Select(p => (long)(p.First / p.Second)).ToArray();
        return g.Node("AveragePool", [x], null, OnnxGraph.Ints("kernel_shape", kernel), OnnxGraph.Ints("strides", kernel));
    }

    private static string LayerNorm(OnnxGraph g, LayerNorm ln, string x) =>
        g.Node("LayerNormalization", [x, g.Constant("ln_scale", ln.Weight), g.Constant("ln_bias", ln.Bias)], null,
            OnnxGraph.Int("axis", -1), OnnxGraph.Float("epsilon", ln.Epsilon));

    private static string FlattenNodes(OnnxGraph g, Flatten f, string x, Tensor sample)
    {
        int rank = sample.Rank, start = f.StartDim < 0 ? f.StartDim + rank : f.StartDim, end = f.EndDim < 0 ? f.EndDim + rank : f.EndDim;
        if (start == 1 && end == rank - 1) return g.Node("Flatten", [x], null, OnnxGraph.Int("axis", 1));
        // Reshape: 0 copies a dimension (the batch); the merged run is -1 when it includes the batch.
        var shape = new List<long>();
        for (var i = 0; i < start; i++) shape.Add(i == 0 ? 0 : sample.Size(i));
        long merged = 1;
        for (var i = start; i <= end; i++) merged *= sample.Size(i);
        shape.Add(start == 0 ? -1 : merged);
        for (var i = end + 1; i < rank; i++) shape.Add(sample.Size(i));
        return g.Node("Reshape", [x, g.Int64s("shape", [.. shape])]);
    }

    public static string Activation(OnnxGraph g, Activation activation, string x)
    {
        switch (activation)
        {
            case Nn.Activation.ReLU: return g.Node("Relu", [x]);
            case Nn.Activation.Tanh: return g.Node("Tanh", [x]);
            case Nn.Activation.Sigmoid: return g.Node("Sigmoid", [x]);
            case Nn.Activation.Softplus: return g.Node("Softplus", [x]);
            case Nn.Activation.Gelu:
                var erf = g.Node("Erf", [g.Node("Div", [x, g.Constant("sqrt2", Tensor.Scalar(MathF.Sqrt(2f)))])]);
                var m = g.Node("Mul", [x, g.Node("Add", [erf, g.Constant("one", Tensor.Scalar(1f))])]);
                return g.Node("Mul", [m, g.Constant("half", Tensor.Scalar(0.5f))]);
            default:
                return x;
        }
    }

    /// <summary>Self-attention of x [N, L, E]: projections, heads as [N, h, L, d], softmax(Q·Kᵀ/√d)·V, output projection.</summary>
    private static string SelfAttention(OnnxGraph g, MultiheadAttention mha, string x)
    {
        int e = mha.EmbedDim, h = mha.Heads, d = e / h;
        var heads = g.Int64s("heads_shape", 0, 0, h, d);
        string Project(int which, long[] perm)
        {
            var w = mha.InProjWeight.Narrow(0, which * e, e);
            var b = mha.InProjBias?.Narrow(0, which * e, e);
            return g.Node("Transpose", [g.Node("Reshape", [Linear(g, x, 3, w, b), heads])], null, OnnxGraph.Ints("perm", perm));
        }
        var q = Project(0, [0, 2, 1, 3]);
        var kT = Project(1, [0, 2, 3, 1]);
        var v = Project(2, [0, 2, 1, 3]);
        var scores = g.Node("Mul", [g.Node("MatMul", [q, kT]), g.Constant("scale", Tensor.Scalar(1f / MathF.Sqrt(d)))]);
        var context = g.Node("MatMul", [g.Node("Softmax", [scores], null, OnnxGraph.Int("axis", -1)), v]);
        var merged = g.Node("Reshape", [g.Node("Transpose", [context], null, OnnxGraph.Ints("perm", 0, 2, 1, 3)), g.Int64s("embed_shape", 0, 0, e)]);
        return Linear(g, merged, 3, mha.OutProj.Weight, mha.OutProj.Bias);
    }

    private static string Encoder(OnnxGraph g, TransformerEncoderLayer block, string x)
    {
        string FeedForward(string t) =>
            Linear(g, Activation(g, block.Activation, Linear(g, t, 3, block.Linear1.Weight, block.Linear1.Bias)), 3, block.Linear2.Weight, block.Linear2.Bias);
        if (block.NormFirst)
        {
            var h = g.Node("Add", [x, SelfAttention(g, block.SelfAttention, LayerNorm(g, block.Norm1, x))]);
            return g.Node("Add", [h, FeedForward(LayerNorm(g, block.Norm2, h))]);
        }
        var n1 = LayerNorm(g, block.Norm1, g.Node("Add", [x, SelfAttention(g, block.SelfAttention, x)]));
        return LayerNorm(g, block.Norm2, g.Node("Add", [n1, FeedForward(n1)]));
    }
}
