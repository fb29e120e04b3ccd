namespace RaySharp.Nn;

/// <summary>
/// Emits <see cref="Lstm"/> and <see cref="Gru"/> as ONNX LSTM/GRU nodes, one per layer (time-major,
/// as ONNX Runtime runs them), with PyTorch's gate blocks reordered to ONNX's: LSTM i f g o → i o f c,
/// GRU r z n → z r h (with <c>linear_before_reset</c>, which is PyTorch's formula).
/// </summary>
internal static class OnnxRecurrentWriter
{
    public static string Emit(OnnxGraph g, Recurrent net, string x)
    {
        var lstm = net is Lstm;
        int[] order = lstm ? [0, 3, 1, 2] : [1, 0, 2];
        var hs = net.HiddenSize;
        if (net.BatchFirst) x = g.Node("Transpose", [x], null, OnnxGraph.Ints("perm", 1, 0, 2));
        for (var l = 0; l < net.Layers; l++)
        {
            var w = Reorder(net.WeightIH(l), order, hs);
            var r = Reorder(net.WeightHH(l), order, hs);
            var bias = net.BiasIH(l) is { } bih
                ? Tensor.Concat([Reorder(bih, order, hs), Reorder(net.BiasHH(l)!, order, hs)], 0)
                : Tensor.Zeros(2 * order.Length * hs);
            List<string> inputs =
            [
                x,
                g.Constant("rnn_w", w, [1, .. w.ShapeArray()]),
                g.Constant("rnn_r", r, [1, .. r.ShapeArray()]),
                g.Constant("rnn_b", bias, [1, bias.Length]),
            ];
            List<ProtoWriter> attributes = [OnnxGraph.Int("hidden_size", hs)];
            if (!lstm) attributes.Add(OnnxGraph.Int("linear_before_reset", 1));
            var y = g.Node(lstm ? "LSTM" : "GRU", inputs, null, [.. attributes]); // Y: [T, 1, N, H]
            x = g.Node("Squeeze", [y, g.Int64s("axes", 1)]);
        }
        return net.BatchFirst ? g.Node("Transpose", [x], null, OnnxGraph.Ints("perm", 1, 0, 2)) : x;
    }

    /// <summary>The blocks of H rows of <paramref name="t"/> in the order <paramref name="order"/>.</summary>
    private static Tensor Reorder(Tensor t, int[] order, int hs) => Tensor.Concat(order.Select(b => t.Narrow(0, b * hs, hs)).ToArray(), 0);
}
