using System.Buffers.Binary;

namespace RaySharp.Nn;

/// <summary>An ONNX GraphProto being written: nodes, initializers and fresh value names.</summary>
internal sealed class OnnxGraph
{
    private const int FloatType = 1; // TensorProto.DataType.FLOAT
    private const int Int64Type = 7; // TensorProto.DataType.INT64
    private int _counter;

    public ProtoWriter Proto { get; } = new();

    /// <summary>A fresh value name.</summary>
    public string Fresh(string hint) => $"{hint}_{++_counter}";

    /// <summary>Adds a float initializer holding a copy of <paramref name="t"/>'s values with shape <paramref name="shape"/> (default the tensor's).</summary>
    public string Constant(string hint, Tensor t, int[]? shape = null)
    {
        var name = Fresh(hint);
        var w = new ProtoWriter();
        foreach (var d in shape ?? t.ShapeArray()) w.Int64(1, d);
        Proto.Message(5, w.Int64(2, FloatType).String(8, name).Floats(9, t.Span));
        return name;
    }

    /// <summary>Adds a 1-D int64 initializer (shapes, axes).</summary>
    public string Int64s(string hint, params long[] values)
    {
        var name = Fresh(hint);
        var bytes = new byte[values.Length * 8];
        for (var i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), values[i]);
        Proto.Message(5, new ProtoWriter().Int64(1, values.Length).Int64(2, Int64Type).String(8, name).Bytes(9, bytes));
        return name;
    }

    /// <summary>Adds a node with one output (a fresh name unless <paramref name="output"/> is given); returns the output.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, string? output = null, params ProtoWriter[] attributes)
    {
        output ??= Fresh(op.ToLowerInvariant());
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        node.String(2, output).String(3, Fresh("node_" + op)).String(4, op);
        foreach (var a in attributes) node.Message(5, a);
        Proto.Message(1, node);
        return output;
    }

    public static ProtoWriter Int(string name, long value) => new ProtoWriter().String(1, name).Int64(3, value).Int64(20, 2);

    public static ProtoWriter Float(string name, float value) => new ProtoWriter().String(1, name).Float(2, value).Int64(20, 1);

    public static ProtoWriter Ints(string name, params long[] values)
    {
        var w = new ProtoWriter().String(1, name);
        foreach (var v in values) w.Int64(8, v);
        return w.Int64(20, 7);
    }

    /// <summary>A float ValueInfoProto whose first dimension is the symbolic batch size N.</summary>
    public static ProtoWriter ValueInfo(string name, ReadOnlySpan<int> shape)
    {
        var dims = new ProtoWriter().Message(1, new ProtoWriter().String(2, "N"));
        for (var i = 1; i < shape.Length; i++) dims.Message(1, new ProtoWriter().Int64(1, shape[i]));
        var tensorType = new ProtoWriter().Int64(1, FloatType).Message(2, dims);
        return new ProtoWriter().String(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }
}
