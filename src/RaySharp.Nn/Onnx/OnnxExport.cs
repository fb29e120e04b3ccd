namespace RaySharp.Nn;

/// <summary>
/// Writes models as ONNX (IR version 8, opset 17) that ONNX Runtime and the serving library can run:
/// one float input [N, …] with a symbolic batch size N and one output. Supported modules:
/// <see cref="Sequential"/>, <see cref="Mlp"/>, <see cref="Linear"/>, <see cref="ActivationLayer"/>,
/// <see cref="Conv1d"/>, <see cref="Conv2d"/>, the max/average/adaptive-average pools,
/// <see cref="BatchNorm1d"/>/<see cref="BatchNorm2d"/> (running statistics), <see cref="LayerNorm"/>,
/// <see cref="Dropout"/> (the identity), <see cref="Flatten"/>, <see cref="Reshape"/>,
/// <see cref="Embedding"/> (indices given as floats), <see cref="Lstm"/>, <see cref="Gru"/>,
/// <see cref="MultiheadAttention"/> (self-attention) and <see cref="TransformerEncoderLayer"/>. The
/// graph is that of evaluation mode (<see cref="Module.Eval"/>) whatever the modules' modes.
/// Weights are copied into initializers; GELU is written as 0.5·x·(1 + Erf(x/√2)).
/// </summary>
public static class OnnxExport
{
    private const long IrVersion = 8;
    private const long Opset = 17;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>; the sample shape is inferred as for <see cref="ToBytes(Module, string, string)"/>.</summary>
    /// <exception cref="NotSupportedException">The model contains a module that cannot be exported.</exception>
    public static void Save(Module model, string path, string inputName = "input", string outputName = "output") =>
        File.WriteAllBytes(path, ToBytes(model, inputName, outputName));

    /// <summary>Writes <paramref name="model"/>, for inputs [N, <paramref name="sampleShape"/>…], to <paramref name="path"/>.</summary>
    /// <exception cref="NotSupportedException">The model contains a module that cannot be exported.</exception>
    public static void Save(Module model, int[] sampleShape, string path, string inputName = "input", string outputName = "output") =>
        File.WriteAllBytes(path, ToBytes(model, sampleShape, inputName, outputName));

    /// <summary>
    /// The serialised ONNX ModelProto of <paramref name="model"/>, whose first layer must be a
    /// <see cref="Linear"/> or <see cref="Mlp"/> (so that the input is [N, in]); other models need
    /// <see cref="ToBytes(Module, int[], string, string)"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The model contains a module that cannot be exported.</exception>
    /// <exception cref="ArgumentException">The input shape cannot be inferred from the first layer.</exception>
    public static byte[] ToBytes(Module model, string inputName = "input", string outputName = "output")
    {
        ArgumentNullException.ThrowIfNull(model);
        var first = model;
        while (first is Sequential { Modules.Count: > 0 } seq) first = seq.Modules[0];
        int[] sample = first switch
        {
            Linear l => [l.InFeatures],
            Mlp m => [m.InputSize],
            _ => throw new ArgumentException($"The input shape cannot be inferred from a first layer of type {first.GetType().Name}; pass the per-sample input shape (sampleShape).", nameof(model)),
        };
        return ToBytes(model, sample, inputName, outputName);
    }

    /// <summary>
    /// The serialised ONNX ModelProto of <paramref name="model"/> for inputs [N, <paramref name="sampleShape"/>…]
    /// (e.g. [1, 28, 28] for a CNN on 28×28 grey images); N is symbolic in the graph.
    /// </summary>
    /// <exception cref="NotSupportedException">The model contains a module that cannot be exported.</exception>
    /// <exception cref="ArgumentException">The model cannot run on inputs of that shape.</exception>
    public static byte[] ToBytes(Module model, int[] sampleShape, string inputName = "input", string outputName = "output")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleShape);
        var graph = new OnnxGraph();
        var sample = Tensor.Zeros([1, .. sampleShape]);
        var (output, result) = model.InEvalMode(() =>
        {
            using var _ = Tensor.NoGrad();
            return OnnxModuleWriter.Emit(graph, model, inputName, sample);
        });
        // The last value gets the output name through an Identity (a graph output must be a node output).
        graph.Node("Identity", [output], outputName);
        graph.Proto.String(2, "raysharp_" + model.GetType().Name.ToLowerInvariant());
        graph.Proto.Message(11, OnnxGraph.ValueInfo(inputName, sample.Shape));
        graph.Proto.Message(12, OnnxGraph.ValueInfo(outputName, result.Shape));

        var modelProto = new ProtoWriter()
            .Int64(1, IrVersion)
            .String(2, "RaySharp.Nn")
            .String(3, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0")
            .Message(7, graph.Proto)
            .Message(8, new ProtoWriter().String(1, "").Int64(2, Opset));
        return modelProto.ToArray();
    }
}
