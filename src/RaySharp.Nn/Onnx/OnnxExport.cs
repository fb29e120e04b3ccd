namespace RaySharp.Nn;

/// <summary>
/// Writes MLP-style models (an <see cref="Mlp"/>, or a <see cref="Sequential"/> of <see cref="Linear"/>
/// and <see cref="ActivationLayer"/>) as ONNX models (IR version 8, opset 17) that ONNX Runtime and
/// the serving library can run. The graph has one float input [N, in] with a symbolic batch size
/// and one output [N, out]; each Linear becomes a <c>Gemm</c> (transB = 1) with its weights as
/// initializers; GELU is written as 0.5·x·(1 + Erf(x/√2)).
/// </summary>
public static class OnnxExport
{
    private const int FloatType = 1; // TensorProto.DataType.FLOAT
    private const long IrVersion = 8;
    private const long Opset = 17;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    /// <exception cref="NotSupportedException">The model contains a module that cannot be exported.</exception>
    public static void Save(Module model, string path, string inputName = "input", string outputName = "output") =>
        File.WriteAllBytes(path, ToBytes(model, inputName, outputName));

    /// <summary>The serialised ONNX ModelProto of <paramref name="model"/>.</summary>
    /// <exception cref="NotSupportedException">The model contains a module that cannot be exported.</exception>
    public static byte[] ToBytes(Module model, string inputName = "input", string outputName = "output")
    {
        ArgumentNullException.ThrowIfNull(model);
        var steps = Flatten(model);
        var linears = steps.Where(s => s.Linear is not null).Select(s => s.Linear!).ToArray();
        if (linears.Length == 0)
            throw new NotSupportedException("ONNX export needs at least one Linear layer.");

        var graph = new ProtoWriter();
        var current = inputName;
        var counter = 0;
        string Next() => $"t{++counter}";
        var lastIndex = steps.Count - 1;
        while (lastIndex >= 0 && steps[lastIndex].Activation == Activation.Identity && steps[lastIndex].Linear is null) lastIndex--;
        for (var i = 0; i < steps.Count; i++)
        {
            var (linear, activation) = steps[i];
            if (linear is null && activation == Activation.Identity) continue;
            var isLast = i == lastIndex;
            if (linear is not null)
            {
                var w = $"l{i}.weight";
                var b = $"l{i}.bias";
                graph.Message(5, Initializer(w, linear.Weight));
                var inputs = new List<string> { current, w };
                if (linear.Bias is not null)
                {
                    graph.Message(5, Initializer(b, linear.Bias));
                    inputs.Add(b);
                }
                var output = isLast ? outputName : Next();
                graph.Message(1, Node("Gemm", $"gemm{i}", inputs, output, new ProtoWriter().String(1, "transB").Int64(3, 1).Int64(20, 2)));
                current = output;
            }
            else
            {
                current = ActivationNodes(graph, activation, current, isLast ? outputName : null, Next, i);
            }
        }
        graph.String(2, "raysharp_mlp");
        graph.Message(11, ValueInfo(inputName, linears[0].InFeatures));
        graph.Message(12, ValueInfo(outputName, linears[^1].OutFeatures));

        var modelProto = new ProtoWriter()
            .Int64(1, IrVersion)
            .String(2, "RaySharp.Nn")
            .String(3, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0")
            .Message(7, graph)
            .Message(8, new ProtoWriter().String(1, "").Int64(2, Opset));
        return modelProto.ToArray();
    }

    private static List<(Linear? Linear, Activation Activation)> Flatten(Module model)
    {
        var steps = new List<(Linear?, Activation)>();
        switch (model)
        {
            case Mlp mlp:
                for (var i = 0; i < mlp.Layers.Count; i++)
                {
                    steps.Add((mlp.Layers[i], Activation.Identity));
                    steps.Add((null, i < mlp.Layers.Count - 1 ? mlp.Activation : mlp.OutputActivation));
                }
                break;
            case Sequential seq:
                foreach (var m in seq.Modules) steps.AddRange(Flatten(m));
                break;
            case Linear linear:
                steps.Add((linear, Activation.Identity));
                break;
            case ActivationLayer act:
                steps.Add((null, act.Activation));
                break;
            default:
                throw new NotSupportedException($"ONNX export supports Mlp, Sequential, Linear and ActivationLayer; got {model.GetType().Name}.");
        }
        return steps;
    }

    private static string ActivationNodes(ProtoWriter graph, Activation activation, string input, string? finalName, Func<string> next, int index)
    {
        string Out() => finalName ?? next();
        switch (activation)
        {
            case Activation.ReLU:
            case Activation.Tanh:
            case Activation.Sigmoid:
            case Activation.Softplus:
                {
                    var op = activation switch
                    {
                        Activation.ReLU => "Relu",
                        Activation.Tanh => "Tanh",
                        Activation.Sigmoid => "Sigmoid",
                        _ => "Softplus",
                    };
                    var output = Out();
                    graph.Message(1, Node(op, $"{op.ToLowerInvariant()}{index}", [input], output, null));
                    return output;
                }
            case Activation.Gelu:
                {
                    string sqrt2 = $"gelu{index}.sqrt2", one = $"gelu{index}.one", half = $"gelu{index}.half";
                    graph.Message(5, Initializer(sqrt2, Tensor.Scalar(MathF.Sqrt(2f))));
                    graph.Message(5, Initializer(one, Tensor.Scalar(1f)));
                    graph.Message(5, Initializer(half, Tensor.Scalar(0.5f)));
                    string d = next(), e = next(), a = next(), m = next();
                    graph.Message(1, Node("Div", $"gelu{index}.div", [input, sqrt2], d, null));
                    graph.Message(1, Node("Erf", $"gelu{index}.erf", [d], e, null));
                    graph.Message(1, Node("Add", $"gelu{index}.add", [e, one], a, null));
                    graph.Message(1, Node("Mul", $"gelu{index}.mul", [input, a], m, null));
                    var output = Out();
                    graph.Message(1, Node("Mul", $"gelu{index}.half", [m, half], output, null));
                    return output;
                }
            default:
                return input;
        }
    }

    private static ProtoWriter Node(string op, string name, IReadOnlyList<string> inputs, string output, ProtoWriter? attribute)
    {
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        node.String(2, output).String(3, name).String(4, op);
        if (attribute is not null) node.Message(5, attribute);
        return node;
    }

    private static ProtoWriter Initializer(string name, Tensor t)
    {
        var w = new ProtoWriter();
        foreach (var d in t.Shape) w.Int64(1, d);
        return w.Int64(2, FloatType).String(8, name).Floats(9, t.Span);
    }

    private static ProtoWriter ValueInfo(string name, int features)
    {
        var shape = new ProtoWriter()
            .Message(1, new ProtoWriter().String(2, "N"))
            .Message(1, new ProtoWriter().Int64(1, features));
        var tensorType = new ProtoWriter().Int64(1, FloatType).Message(2, shape);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}
