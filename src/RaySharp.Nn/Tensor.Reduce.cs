using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>The sum of all elements, as a scalar.</summary>
    public Tensor Sum()
    {
        var o = Scalar(TensorPrimitives.Sum(Span));
        return Tracks(this) ? Record(o, [this], r => TensorPrimitives.Add(GradSpan(), r.Grad!.Span[0], GradSpan())) : o;
    }

    /// <summary>The mean of all elements, as a scalar.</summary>
    /// <exception cref="InvalidOperationException">The tensor is empty.</exception>
    public Tensor Mean()
    {
        if (Length == 0)
            throw new InvalidOperationException($"Mean of an empty tensor (shape {FormatShape(_shape)}) is undefined.");
        var n = Length;
        var o = Scalar(TensorPrimitives.Sum(Span) / n);
        return Tracks(this) ? Record(o, [this], r => TensorPrimitives.Add(GradSpan(), r.Grad!.Span[0] / n, GradSpan())) : o;
    }

    /// <summary>Sums over dimension <paramref name="dim"/>, removing it unless <paramref name="keepDim"/>.</summary>
    public Tensor Sum(int dim, bool keepDim = false) => ReduceDim(dim, keepDim, mean: false);

    /// <summary>Averages over dimension <paramref name="dim"/>, removing it unless <paramref name="keepDim"/>.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => ReduceDim(dim, keepDim, mean: true);

    /// <summary>The largest element along <paramref name="dim"/>; the gradient flows to the (first) largest.</summary>
    public Tensor Max(int dim, bool keepDim = false)
    {
        var (outer, n, inner) = Split(dim, "Max");
        var idx = ArgMax(dim);
        var o = new Tensor(new float[outer * inner], ReducedShape(dim, keepDim));
        var x = Span;
        var y = o.Span;
        for (var i = 0; i < idx.Length; i++)
        {
            var (oi, ii) = (i / inner, i % inner);
            y[i] = x[(oi * n + idx[i]) * inner + ii];
        }
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var d = GradSpan();
            for (var i = 0; i < idx.Length; i++)
            {
                var (oi, ii) = (i / inner, i % inner);
                d[(oi * n + idx[i]) * inner + ii] += g[i];
            }
        }) : o;
    }

    /// <summary>The index of the largest element along <paramref name="dim"/> (first on ties), one per remaining position.</summary>
    public int[] ArgMax(int dim = -1)
    {
        var (outer, n, inner) = Split(dim, "ArgMax");
        if (n == 0)
            throw new InvalidOperationException($"ArgMax over an empty dimension of shape {FormatShape(_shape)}.");
        var x = Span;
        var result = new int[outer * inner];
        for (var o = 0; o < outer; o++)
        {
            if (inner == 1)
            {
                result[o] = TensorPrimitives.IndexOfMax(x.Slice(o * n, n));
                continue;
            }
            for (var i = 0; i < inner; i++)
            {
                var best = 0;
                for (var k = 1; k < n; k++)
                    if (x[(o * n + k) * inner + i] > x[(o * n + best) * inner + i]) best = k;
                result[o * inner + i] = best;
            }
        }
        return result;
    }

    /// <summary>Softmax along <paramref name="dim"/> (default the last).</summary>
    public Tensor Softmax(int dim = -1) => LogSoftmax(dim).Exp();

    /// <summary>log(softmax(x)) along <paramref name="dim"/> (default the last), computed stably.</summary>
    public Tensor LogSoftmax(int dim = -1)
    {
        var (outer, n, inner) = Split(dim, "LogSoftmax");
        var o = NewLike();
        var x = Span;
        var y = o.Span;
        var col = new float[n];
        for (var a = 0; a < outer; a++)
            for (var i = 0; i < inner; i++)
            {
                for (var k = 0; k < n; k++) col[k] = x[(a * n + k) * inner + i];
                var lse = LogSumExp(col);
                for (var k = 0; k < n; k++) y[(a * n + k) * inner + i] = col[k] - lse;
            }
        return Tracks(this) ? Record(o, [this], r =>
        {
            // dx = g - softmax · sum(g)
            var g = r.Grad!.Span;
            var ls = r.Span;
            var d = GradSpan();
            for (var a = 0; a < outer; a++)
                for (var i = 0; i < inner; i++)
                {
                    var sum = 0f;
                    for (var k = 0; k < n; k++) sum += g[(a * n + k) * inner + i];
                    for (var k = 0; k < n; k++)
                    {
                        var j = (a * n + k) * inner + i;
                        d[j] += g[j] - MathF.Exp(ls[j]) * sum;
                    }
                }
        }) : o;
    }

    /// <summary>log(sum(exp(x))) along <paramref name="dim"/>, computed stably.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false)
    {
        var ls = LogSoftmax(dim);
        // logsumexp = x - logsoftmax(x), constant along dim: take the first entry.
        var diff = this - ls;
        return diff.Narrow(dim, 0, 1).Reshape(ReducedShape(dim, keepDim));
    }

    internal static float LogSumExp(ReadOnlySpan<float> x)
    {
        var max = TensorPrimitives.Max(x);
        if (float.IsNegativeInfinity(max)) return max;
        var sum = 0f;
        foreach (var v in x) sum += MathF.Exp(v - max);
        return max + MathF.Log(sum);
    }

    private Tensor ReduceDim(int dim, bool keepDim, bool mean)
    {
        var (outer, n, inner) = Split(dim, mean ? "Mean" : "Sum");
        if (mean && n == 0)
            throw new InvalidOperationException($"Mean over an empty dimension of shape {FormatShape(_shape)} is undefined.");
        var scale = mean ? 1f / n : 1f;
        var o = new Tensor(new float[outer * inner], ReducedShape(dim, keepDim));
        var x = Span;
        var y = o.Span;
        for (var a = 0; a < outer; a++)
        {
            var dst = y.Slice(a * inner, inner);
            if (inner == 1)
            {
                dst[0] = TensorPrimitives.Sum(x.Slice(a * n, n)) * scale;
                continue;
            }
            for (var k = 0; k < n; k++) TensorPrimitives.Add(dst, x.Slice((a * n + k) * inner, inner), dst);
            if (mean) TensorPrimitives.Multiply(dst, scale, dst);
        }
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var d = GradSpan();
            for (var a = 0; a < outer; a++)
            {
                var src = g.Slice(a * inner, inner);
                for (var k = 0; k < n; k++)
                {
                    var dst = d.Slice((a * n + k) * inner, inner);
                    TensorPrimitives.MultiplyAdd(src, scale, dst, dst);
                }
            }
        }) : o;
    }

    /// <summary>Views the shape as [outer, size of dim, inner].</summary>
    internal (int Outer, int N, int Inner) Split(int dim, string op)
    {
        var d = NormalizeDim(dim, Rank, op);
        var outer = 1;
        var inner = 1;
        for (var i = 0; i < d; i++) outer *= _shape[i];
        for (var i = d + 1; i < Rank; i++) inner *= _shape[i];
        return (outer, _shape[d], inner);
    }

    private int[] ReducedShape(int dim, bool keepDim)
    {
        var d = NormalizeDim(dim, Rank, "reduce");
        if (keepDim)
        {
            var s = (int[])_shape.Clone();
            s[d] = 1;
            return s;
        }
        var shape = new int[Rank - 1];
        for (int i = 0, j = 0; i < Rank; i++)
            if (i != d) shape[j++] = _shape[i];
        return shape;
    }
}
