using System.Numerics;
using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>Adds a constant to every element.</summary>
    public Tensor Add(float s)
    {
        var o = NewLike();
        TensorPrimitives.Add(Span, s, o.Span);
        return Tracks(this) ? Record(o, [this], r => TensorPrimitives.Add(GradSpan(), r.Grad!.Span, GradSpan())) : o;
    }

    /// <summary>Multiplies every element by a constant.</summary>
    public Tensor Mul(float s)
    {
        var o = NewLike();
        TensorPrimitives.Multiply(Span, s, o.Span);
        return Tracks(this) ? Record(o, [this], r => TensorPrimitives.MultiplyAdd(r.Grad!.Span, s, GradSpan(), GradSpan())) : o;
    }

    /// <summary>Negates every element.</summary>
    public Tensor Neg() => Mul(-1f);

    /// <summary>e to the power of each element.</summary>
    public Tensor Exp()
    {
        var o = NewLike();
        TensorPrimitives.Exp(Span, o.Span);
        return Tracks(this) ? Record(o, [this], r => AccumulateProduct(r.Grad!.Span, r.Span)) : o;
    }

    /// <summary>Natural logarithm of each element.</summary>
    public Tensor Log()
    {
        var o = NewLike();
        TensorPrimitives.Log(Span, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            var tmp = new float[Length];
            TensorPrimitives.Divide(r.Grad!.Span, Span, tmp);
            TensorPrimitives.Add(GradSpan(), tmp, GradSpan());
        }) : o;
    }

    /// <summary>Square root of each element.</summary>
    public Tensor Sqrt()
    {
        var o = NewLike();
        TensorPrimitives.Sqrt(Span, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            var tmp = new float[Length];
            TensorPrimitives.Divide(r.Grad!.Span, r.Span, tmp);
            TensorPrimitives.MultiplyAdd(tmp, 0.5f, GradSpan(), GradSpan());
        }) : o;
    }

    /// <summary>Each element squared.</summary>
    public Tensor Square()
    {
        var o = NewLike();
        TensorPrimitives.Multiply(Span, Span, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            var tmp = new float[Length];
            TensorPrimitives.Multiply(r.Grad!.Span, Span, tmp);
            TensorPrimitives.MultiplyAdd(tmp, 2f, GradSpan(), GradSpan());
        }) : o;
    }

    /// <summary>Absolute value of each element (gradient 0 at 0).</summary>
    public Tensor Abs()
    {
        var o = NewLike();
        TensorPrimitives.Abs(Span, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var x = Span;
            var d = GradSpan();
            for (var i = 0; i < d.Length; i++) d[i] += x[i] > 0 ? g[i] : x[i] < 0 ? -g[i] : 0;
        }) : o;
    }

    /// <summary>Each element limited to [<paramref name="min"/>, <paramref name="max"/>]; no gradient where it was clipped.</summary>
    /// <exception cref="ArgumentException"><paramref name="min"/> is greater than <paramref name="max"/>.</exception>
    public Tensor Clamp(float min, float max)
    {
        if (min > max)
            throw new ArgumentException($"Clamp needs min <= max, got min={min}, max={max}.", nameof(min));
        var o = NewLike();
        TensorPrimitives.Clamp(Span, min, max, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var x = Span;
            var d = GradSpan();
            for (var i = 0; i < d.Length; i++)
                if (x[i] >= min && x[i] <= max) d[i] += g[i];
        }) : o;
    }

    /// <summary>max(x, 0).</summary>
    public Tensor Relu()
    {
        var o = NewLike();
        TensorPrimitives.Max(Span, 0f, o.Span);
        return Tracks(this) ? Record(o, [this], r => ReluBackward(Span, r.Grad!.Span, GradSpan())) : o;
    }

    /// <summary>Hyperbolic tangent.</summary>
    public Tensor Tanh()
    {
        var o = NewLike();
        TensorPrimitives.Tanh(Span, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            // d tanh = 1 - y²
            var tmp = new float[Length];
            TensorPrimitives.Multiply(r.Span, r.Span, tmp);
            TensorPrimitives.Subtract(1f, tmp, tmp);
            AccumulateProduct(r.Grad!.Span, tmp);
        }) : o;
    }

    /// <summary>The logistic function 1 / (1 + e^-x).</summary>
    public Tensor Sigmoid()
    {
        var o = NewLike();
        TensorPrimitives.Sigmoid(Span, o.Span);
        return Tracks(this) ? Record(o, [this], r =>
        {
            // d σ = σ(1 - σ)
            var tmp = new float[Length];
            TensorPrimitives.Subtract(1f, r.Span, tmp);
            TensorPrimitives.Multiply(tmp, r.Span, tmp);
            AccumulateProduct(r.Grad!.Span, tmp);
        }) : o;
    }

    /// <summary>log(1 + e^x), computed stably; the same as PyTorch's Softplus (beta 1, threshold 20).</summary>
    public Tensor Softplus()
    {
        var o = NewLike();
        var y = o.Span;
        // max(x, 0) + log(1 + e^-|x|): never overflows; for x > 20 it rounds to x as PyTorch's threshold does.
        TensorPrimitives.Abs(Span, y);
        TensorPrimitives.Negate(y, y);
        TensorPrimitives.Exp(y, y);
        TensorPrimitives.Add(y, 1f, y);
        TensorPrimitives.Log(y, y);
        var pos = new float[Length];
        TensorPrimitives.Max(Span, 0f, pos);
        TensorPrimitives.Add(y, pos, y);
        return Tracks(this) ? Record(o, [this], r =>
        {
            var tmp = new float[Length];
            TensorPrimitives.Sigmoid(Span, tmp);
            AccumulateProduct(r.Grad!.Span, tmp);
        }) : o;
    }

    /// <summary>The exact Gaussian error linear unit x·Φ(x) (PyTorch's default GELU).</summary>
    public Tensor Gelu()
    {
        var o = NewLike();
        var x = Span;
        var y = o.Span;
        for (var i = 0; i < y.Length; i++) y[i] = (float)(x[i] * NormalCdf(x[i]));
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var xs = Span;
            var d = GradSpan();
            for (var i = 0; i < d.Length; i++)
            {
                double v = xs[i];
                var pdf = Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI);
                d[i] += (float)(g[i] * (NormalCdf(v) + v * pdf));
            }
        }) : o;
    }

    /// <summary>Applies <paramref name="activation"/>.</summary>
    public Tensor Apply(Activation activation) => activation switch
    {
        Activation.Identity => this,
        Activation.ReLU => Relu(),
        Activation.Tanh => Tanh(),
        Activation.Sigmoid => Sigmoid(),
        Activation.Gelu => Gelu(),
        Activation.Softplus => Softplus(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };

    internal static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>The error function, accurate to 1.2e-7 (a Chebyshev fit of erfc), ample for float32.</summary>
    internal static double Erf(double x)
    {
        var z = Math.Abs(x);
        var t = 1.0 / (1.0 + 0.5 * z);
        var ans = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - ans : ans - 1;
    }

    internal static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            for (; i <= d.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vx = new Vector<float>(x[i..]);
                var vg = new Vector<float>(g[i..]);
                var vd = new Vector<float>(d[i..]);
                (vd + System.Numerics.Vector.ConditionalSelect(System.Numerics.Vector.GreaterThan(vx, Vector<float>.Zero), vg, Vector<float>.Zero)).CopyTo(d[i..]);
            }
        }
        for (; i < d.Length; i++)
            if (x[i] > 0) d[i] += g[i];
    }

    /// <summary>d = x &gt; 0 ? g : 0 (overwrites <paramref name="d"/>).</summary>
    internal static void ReluMask(ReadOnlySpan<float> x, ReadOnlySpan<float> g, Span<float> d)
    {
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            for (; i <= d.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vx = new Vector<float>(x[i..]);
                System.Numerics.Vector.ConditionalSelect(System.Numerics.Vector.GreaterThan(vx, Vector<float>.Zero), new Vector<float>(g[i..]), Vector<float>.Zero).CopyTo(d[i..]);
            }
        }
        for (; i < d.Length; i++) d[i] = x[i] > 0 ? g[i] : 0f;
    }

    private void AccumulateProduct(ReadOnlySpan<float> g, ReadOnlySpan<float> factor)
    {
        var d = GradSpan();
        TensorPrimitives.FusedMultiplyAdd(g, factor, d, d);
    }

    private Tensor NewLike() => new(new float[Length], (int[])_shape.Clone());
}
