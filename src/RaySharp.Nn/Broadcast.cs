namespace RaySharp.Nn;

/// <summary>
/// NumPy broadcasting for elementwise operations: shapes are aligned at the right, and a dimension of
/// 1 (or a missing one) stretches to match the other.
/// </summary>
internal static class Broadcast
{
    public static int[] Shape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        var rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            var db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Tensor.FormatShape(a)} and {Tensor.FormatShape(b)} cannot be broadcast together (dimension {i} is {da} vs {db}).");
            shape[i] = da == 1 ? db : da;
        }
        return shape;
    }

    /// <summary>Strides of <paramref name="shape"/> padded to rank 4 against <paramref name="outShape"/>, 0 where broadcast.</summary>
    public static void Strides(ReadOnlySpan<int> shape, ReadOnlySpan<int> outShape, Span<int> strides)
    {
        var pad = Tensor.MaxRank - outShape.Length;
        var stride = 1;
        strides.Clear();
        for (var i = outShape.Length - 1; i >= 0; i--)
        {
            var j = i - (outShape.Length - shape.Length);
            var d = j >= 0 ? shape[j] : 1;
            strides[pad + i] = d == 1 ? 0 : stride;
            stride *= d;
        }
    }

    public static void Dims(ReadOnlySpan<int> outShape, Span<int> dims)
    {
        dims.Fill(1);
        var pad = Tensor.MaxRank - outShape.Length;
        for (var i = 0; i < outShape.Length; i++) dims[pad + i] = outShape[i];
    }

    /// <summary>
    /// True when <paramref name="small"/> equals the trailing dimensions of <paramref name="big"/>
    /// (so <paramref name="big"/> is whole repetitions of it).
    /// </summary>
    public static bool IsSuffix(ReadOnlySpan<int> small, ReadOnlySpan<int> big)
    {
        if (small.Length > big.Length) return false;
        var s = small;
        while (s.Length > 0 && s[0] == 1) s = s[1..];
        return s.SequenceEqual(big[(big.Length - s.Length)..]);
    }

    /// <summary>Adds <paramref name="grad"/> (of shape <paramref name="outShape"/>) into <paramref name="dst"/>, summing over broadcast dimensions of <paramref name="shape"/>.</summary>
    public static void SumInto(ReadOnlySpan<float> grad, ReadOnlySpan<int> outShape, ReadOnlySpan<int> shape, Span<float> dst)
    {
        if (shape.SequenceEqual(outShape))
        {
            System.Numerics.Tensors.TensorPrimitives.Add(dst, grad, dst);
            return;
        }
        if (dst.Length == 1)
        {
            dst[0] += System.Numerics.Tensors.TensorPrimitives.Sum(grad);
            return;
        }
        if (IsSuffix(shape, outShape))
        {
            for (var o = 0; o < grad.Length; o += dst.Length)
                System.Numerics.Tensors.TensorPrimitives.Add(dst, grad.Slice(o, dst.Length), dst);
            return;
        }
        Span<int> st = stackalloc int[4];
        Span<int> dims = stackalloc int[4];
        Strides(shape, outShape, st);
        Dims(outShape, dims);
        var k = 0;
        for (var i0 = 0; i0 < dims[0]; i0++)
            for (var i1 = 0; i1 < dims[1]; i1++)
                for (var i2 = 0; i2 < dims[2]; i2++)
                {
                    var b = i0 * st[0] + i1 * st[1] + i2 * st[2];
                    for (var i3 = 0; i3 < dims[3]; i3++)
                        dst[b + i3 * st[3]] += grad[k++];
                }
    }
}
