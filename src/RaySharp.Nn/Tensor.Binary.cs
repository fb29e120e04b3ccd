using System.Numerics.Tensors;

namespace RaySharp.Nn;

/// <summary>An elementwise binary function in its scalar and vectorised forms.</summary>
internal interface IBinaryOp
{
    static abstract float Apply(float x, float y);

    static abstract void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d);

    static abstract void Apply(ReadOnlySpan<float> x, float y, Span<float> d);

    static abstract void Apply(float x, ReadOnlySpan<float> y, Span<float> d);
}

internal readonly struct AddOp : IBinaryOp
{
    public static float Apply(float x, float y) => x + y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Add(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Add(y, x, d);
}

internal readonly struct SubOp : IBinaryOp
{
    public static float Apply(float x, float y) => x - y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Subtract(x, y, d);
}

internal readonly struct MulOp : IBinaryOp
{
    public static float Apply(float x, float y) => x * y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Multiply(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Multiply(y, x, d);
}

internal readonly struct DivOp : IBinaryOp
{
    public static float Apply(float x, float y) => x / y;
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Divide(x, y, d);
}

internal readonly struct MaxOp : IBinaryOp
{
    public static float Apply(float x, float y) => MathF.Max(x, y);
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Max(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Max(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Max(y, x, d);
}

internal readonly struct MinOp : IBinaryOp
{
    public static float Apply(float x, float y) => MathF.Min(x, y);
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Min(x, y, d);
    public static void Apply(ReadOnlySpan<float> x, float y, Span<float> d) => TensorPrimitives.Min(x, y, d);
    public static void Apply(float x, ReadOnlySpan<float> y, Span<float> d) => TensorPrimitives.Min(y, x, d);
}

public sealed partial class Tensor
{
    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);

    /// <summary>Adds a constant to every element.</summary>
    public static Tensor operator +(Tensor a, float s) => a.Add(s);

    /// <summary>Adds a constant to every element.</summary>
    public static Tensor operator +(float s, Tensor a) => a.Add(s);

    /// <summary>Subtracts a constant from every element.</summary>
    public static Tensor operator -(Tensor a, float s) => a.Add(-s);

    /// <summary>A constant minus every element.</summary>
    public static Tensor operator -(float s, Tensor a) => a.Neg().Add(s);

    /// <summary>Multiplies every element by a constant.</summary>
    public static Tensor operator *(Tensor a, float s) => a.Mul(s);

    /// <summary>Multiplies every element by a constant.</summary>
    public static Tensor operator *(float s, Tensor a) => a.Mul(s);

    /// <summary>Divides every element by a constant.</summary>
    public static Tensor operator /(Tensor a, float s) => a.Mul(1f / s);

    /// <summary>Negates every element.</summary>
    public static Tensor operator -(Tensor a) => a.Neg();

    /// <summary>Elementwise sum with broadcasting.</summary>
    public Tensor Add(Tensor other)
    {
        var o = Binary<AddOp>(this, other, "Add");
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            if (a.RequiresGrad) Broadcast.SumInto(r.Grad!.Span, r._shape, a._shape, a.GradSpan());
            if (other.RequiresGrad) Broadcast.SumInto(r.Grad!.Span, r._shape, other._shape, other.GradSpan());
        });
    }

    /// <summary>Elementwise difference with broadcasting.</summary>
    public Tensor Sub(Tensor other)
    {
        var o = Binary<SubOp>(this, other, "Sub");
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            if (a.RequiresGrad) Broadcast.SumInto(r.Grad!.Span, r._shape, a._shape, a.GradSpan());
            if (other.RequiresGrad)
            {
                var neg = new float[r.Length];
                TensorPrimitives.Negate(r.Grad!.Span, neg);
                Broadcast.SumInto(neg, r._shape, other._shape, other.GradSpan());
            }
        });
    }

    /// <summary>Elementwise product with broadcasting.</summary>
    public Tensor Mul(Tensor other)
    {
        var o = Binary<MulOp>(this, other, "Mul");
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            var tmp = new float[r.Length];
            if (a.RequiresGrad)
            {
                TensorPrimitives.Multiply(r.Grad!.Span, other.Expand(r._shape), tmp);
                Broadcast.SumInto(tmp, r._shape, a._shape, a.GradSpan());
            }
            if (other.RequiresGrad)
            {
                TensorPrimitives.Multiply(r.Grad!.Span, a.Expand(r._shape), tmp);
                Broadcast.SumInto(tmp, r._shape, other._shape, other.GradSpan());
            }
        });
    }

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public Tensor Div(Tensor other)
    {
        var o = Binary<DivOp>(this, other, "Div");
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            var tmp = new float[r.Length];
            var bx = other.Expand(r._shape);
            if (a.RequiresGrad)
            {
                TensorPrimitives.Divide(r.Grad!.Span, bx, tmp);
                Broadcast.SumInto(tmp, r._shape, a._shape, a.GradSpan());
            }
            if (other.RequiresGrad)
            {
                // d(a/b)/db = -(a/b)/b
                TensorPrimitives.Multiply(r.Grad!.Span, r.Span, tmp);
                TensorPrimitives.Divide(tmp, bx, tmp);
                TensorPrimitives.Negate(tmp, tmp);
                Broadcast.SumInto(tmp, r._shape, other._shape, other.GradSpan());
            }
        });
    }

    /// <summary>Elementwise maximum with broadcasting; the gradient goes to the larger input (the first on ties).</summary>
    public Tensor Maximum(Tensor other) => Select<MaxOp>(other, "Maximum", max: true);

    /// <summary>Elementwise minimum with broadcasting; the gradient goes to the smaller input (the first on ties).</summary>
    public Tensor Minimum(Tensor other) => Select<MinOp>(other, "Minimum", max: false);

    private Tensor Select<TOp>(Tensor other, string name, bool max) where TOp : IBinaryOp
    {
        var o = Binary<TOp>(this, other, name);
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            var ax = a.Expand(r._shape);
            var bx = other.Expand(r._shape);
            var g = r.Grad!.Span;
            var ga = new float[r.Length];
            var gb = new float[r.Length];
            for (var i = 0; i < ga.Length; i++)
            {
                var takeA = max ? ax[i] >= bx[i] : ax[i] <= bx[i];
                if (takeA) ga[i] = g[i];
                else gb[i] = g[i];
            }
            if (a.RequiresGrad) Broadcast.SumInto(ga, r._shape, a._shape, a.GradSpan());
            if (other.RequiresGrad) Broadcast.SumInto(gb, r._shape, other._shape, other.GradSpan());
        });
    }

    /// <summary>The elements laid out at <paramref name="shape"/> (a broadcast target of this tensor's shape).</summary>
    internal ReadOnlySpan<float> Expand(int[] shape)
    {
        if (SameShape(_shape, shape)) return Span;
        var dst = new float[ShapeLength(shape)];
        var src = Span;
        if (src.Length == 1)
        {
            Array.Fill(dst, src[0]);
            return dst;
        }
        if (Broadcast.IsSuffix(_shape, shape))
        {
            for (var o = 0; o < dst.Length; o += src.Length) src.CopyTo(dst.AsSpan(o));
            return dst;
        }
        Span<int> st = stackalloc int[4];
        Span<int> dims = stackalloc int[4];
        Broadcast.Strides(_shape, shape, st);
        Broadcast.Dims(shape, dims);
        var k = 0;
        for (var i0 = 0; i0 < dims[0]; i0++)
            for (var i1 = 0; i1 < dims[1]; i1++)
                for (var i2 = 0; i2 < dims[2]; i2++)
                {
                    var b = i0 * st[0] + i1 * st[1] + i2 * st[2];
                    for (var i3 = 0; i3 < dims[3]; i3++) dst[k++] = src[b + i3 * st[3]];
                }
        return dst;
    }

    private static Tensor Binary<TOp>(Tensor a, Tensor b, string name) where TOp : IBinaryOp
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var shape = SameShape(a._shape, b._shape) ? (int[])a._shape.Clone() : Broadcast.Shape(a._shape, b._shape, name);
        var o = new Tensor(new float[ShapeLength(shape)], shape);
        var d = o.Span;
        var x = a.Span;
        var y = b.Span;
        if (x.Length == d.Length && y.Length == d.Length) TOp.Apply(x, y, d);
        else if (y.Length == 1 && x.Length == d.Length) TOp.Apply(x, y[0], d);
        else if (x.Length == 1 && y.Length == d.Length) TOp.Apply(x[0], y, d);
        else if (x.Length == d.Length && Broadcast.IsSuffix(b._shape, shape))
        {
            for (var i = 0; i < d.Length; i += y.Length) TOp.Apply(x.Slice(i, y.Length), y, d.Slice(i, y.Length));
        }
        else if (y.Length == d.Length && Broadcast.IsSuffix(a._shape, shape))
        {
            for (var i = 0; i < d.Length; i += x.Length) TOp.Apply(x, y.Slice(i, x.Length), d.Slice(i, x.Length));
        }
        else
        {
            var xs = a.Expand(shape);
            var ys = b.Expand(shape);
            TOp.Apply(xs, ys, d);
        }
        return o;
    }
}
