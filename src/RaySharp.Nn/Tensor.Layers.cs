using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as PyTorch's <c>conv2d</c>) through im2col and one matrix
    /// multiply per image: <paramref name="input"/> [N, C, H, W], <paramref name="weight"/>
    /// [O, C, kH, kW], <paramref name="bias"/> [O] or null; the result is [N, O, H', W'] with
    /// H' = (H + 2·padding - kH) / stride + 1 (likewise W').
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together, or the kernel does not fit the padded image.</exception>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, int stride = 1, int padding = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4 || weight.Rank != 4 || input._shape[1] != weight._shape[1])
            throw new ArgumentException($"Conv2d needs input [N, C, H, W] and weight [O, C, kH, kW]; got input {FormatShape(input._shape)} and weight {FormatShape(weight._shape)}.", nameof(input));
        if (stride < 1 || padding < 0)
            throw new ArgumentOutOfRangeException(nameof(stride), $"Conv2d needs stride >= 1 and padding >= 0, got stride {stride}, padding {padding}.");
        int n = input._shape[0], c = input._shape[1], h = input._shape[2], w = input._shape[3];
        int o = weight._shape[0], kh = weight._shape[2], kw = weight._shape[3];
        if (bias is not null && (bias.Rank != 1 || bias._shape[0] != o))
            throw new ArgumentException($"Conv2d bias must be [{o}] for weight {FormatShape(weight._shape)}; got {FormatShape(bias._shape)}.", nameof(bias));
        if (h + 2 * padding < kh || w + 2 * padding < kw)
            throw new ArgumentException($"Conv2d kernel {kh}×{kw} is larger than the padded input {h + 2 * padding}×{w + 2 * padding} (input {FormatShape(input._shape)}).", nameof(weight));
        var geo = new ConvGeometry(c, h, w, kh, kw, stride, padding);
        int oh = geo.OutH, ow = geo.OutW, rows = c * kh * kw, cols = oh * ow;

        var output = new Tensor(new float[n * o * cols], [n, o, oh, ow]);
        var colBuf = new float[rows * cols];
        var x = input.Span;
        var y = output.Span;
        for (var img = 0; img < n; img++)
        {
            geo.Im2Col(x.Slice(img * c * h * w, c * h * w), colBuf);
            var dst = y.Slice(img * o * cols, o * cols);
            if (bias is not null)
                for (var oc = 0; oc < o; oc++) dst.Slice(oc * cols, cols).Fill(bias.Span[oc]);
            Blas.Sgemm(false, false, o, cols, rows, 1f, weight.Span, colBuf, bias is null ? 0f : 1f, dst);
        }

        var tracks = IsGradEnabled && (input.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false));
        if (!tracks) return output;
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Record(output, inputs, r =>
        {
            var g = r.Grad!.Span;
            var cb = new float[rows * cols];
            var dcol = new float[rows * cols];
            for (var img = 0; img < n; img++)
            {
                var gi = g.Slice(img * o * cols, o * cols);
                if (weight.RequiresGrad)
                {
                    geo.Im2Col(input.Span.Slice(img * c * h * w, c * h * w), cb);
                    Blas.Sgemm(false, true, o, rows, cols, 1f, gi, cb, 1f, weight.GradSpan()); // dW += G·colsᵀ
                }
                if (input.RequiresGrad)
                {
                    Blas.Sgemm(true, false, rows, cols, o, 1f, weight.Span, gi, 0f, dcol); // dcols = Wᵀ·G
                    geo.Col2ImAdd(dcol, input.GradSpan().Slice(img * c * h * w, c * h * w));
                }
                if (bias is not null && bias.RequiresGrad)
                {
                    var db = bias.GradSpan();
                    for (var oc = 0; oc < o; oc++) db[oc] += TensorPrimitives.Sum(gi.Slice(oc * cols, cols));
                }
            }
        });
    }

    /// <summary>
    /// Layer normalisation over the last dimension: (x - mean) / √(var + ε) · γ + β, with the biased
    /// variance (PyTorch's <c>layer_norm</c>). <paramref name="gamma"/> and <paramref name="beta"/> are
    /// [D] or null.
    /// </summary>
    /// <exception cref="ArgumentException">γ or β is not [D] for input [..., D].</exception>
    public static Tensor LayerNorm(Tensor input, Tensor? gamma, Tensor? beta, float epsilon = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0)
            throw new ArgumentException("LayerNorm needs an input of rank 1 or more, got a scalar.", nameof(input));
        var d = input._shape[^1];
        foreach (var (p, name) in new[] { (gamma, "gamma"), (beta, "beta") })
            if (p is not null && (p.Rank != 1 || p._shape[0] != d))
                throw new ArgumentException($"LayerNorm {name} must be [{d}] for input {FormatShape(input._shape)}; got {FormatShape(p._shape)}.", name);
        var rows = d == 0 ? 0 : input.Length / d;
        var xhat = new float[input.Length];
        var invStd = new float[rows];
        var output = new Tensor(new float[input.Length], (int[])input._shape.Clone());
        var x = input.Span;
        var y = output.Span;
        for (var r = 0; r < rows; r++)
        {
            var row = x.Slice(r * d, d);
            var mean = TensorPrimitives.Sum(row) / d;
            var xh = xhat.AsSpan(r * d, d);
            TensorPrimitives.Subtract(row, mean, xh);
            var variance = TensorPrimitives.SumOfSquares(xh) / d;
            invStd[r] = 1f / MathF.Sqrt(variance + epsilon);
            TensorPrimitives.Multiply(xh, invStd[r], xh);
            var dst = y.Slice(r * d, d);
            if (gamma is not null) TensorPrimitives.Multiply(xh, gamma.Span, dst);
            else xh.CopyTo(dst);
            if (beta is not null) TensorPrimitives.Add(dst, beta.Span, dst);
        }
        var tracks = IsGradEnabled && (input.RequiresGrad || (gamma?.RequiresGrad ?? false) || (beta?.RequiresGrad ?? false));
        if (!tracks) return output;
        var inputs = new List<Tensor> { input };
        if (gamma is not null) inputs.Add(gamma);
        if (beta is not null) inputs.Add(beta);
        return Record(output, inputs.ToArray(), res =>
        {
            var g = res.Grad!.Span;
            var dxh = new float[d];
            for (var r = 0; r < rows; r++)
            {
                var gr = g.Slice(r * d, d);
                var xh = xhat.AsSpan(r * d, d);
                if (gamma is not null && gamma.RequiresGrad) TensorPrimitives.FusedMultiplyAdd(gr, xh, gamma.GradSpan(), gamma.GradSpan());
                if (beta is not null && beta.RequiresGrad) TensorPrimitives.Add(beta.GradSpan(), gr, beta.GradSpan());
                if (!input.RequiresGrad) continue;
                // dx = invStd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂))
                if (gamma is not null) TensorPrimitives.Multiply(gr, gamma.Span, dxh);
                else gr.CopyTo(dxh);
                var meanD = TensorPrimitives.Sum(dxh) / d;
                var meanDx = TensorPrimitives.Dot(dxh, xh) / d;
                var dst = input.GradSpan().Slice(r * d, d);
                for (var i = 0; i < d; i++) dst[i] += invStd[r] * (dxh[i] - meanD - xh[i] * meanDx);
            }
        });
    }
}

/// <summary>The index arithmetic of im2col / col2im for one image.</summary>
internal readonly record struct ConvGeometry(int C, int H, int W, int Kh, int Kw, int Stride, int Padding)
{
    public int OutH => (H + 2 * Padding - Kh) / Stride + 1;

    public int OutW => (W + 2 * Padding - Kw) / Stride + 1;

    /// <summary>cols[(c·kH + i)·kW + j, oy·W' + ox] = x[c, oy·s + i - p, ox·s + j - p] (0 outside).</summary>
    public void Im2Col(ReadOnlySpan<float> x, Span<float> cols)
    {
        int oh = OutH, ow = OutW;
        for (var c = 0; c < C; c++)
            for (var i = 0; i < Kh; i++)
                for (var j = 0; j < Kw; j++)
                {
                    var row = cols.Slice(((c * Kh + i) * Kw + j) * oh * ow, oh * ow);
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var iy = oy * Stride + i - Padding;
                        for (var ox = 0; ox < ow; ox++)
                        {
                            var ix = ox * Stride + j - Padding;
                            row[oy * ow + ox] = (uint)iy < (uint)H && (uint)ix < (uint)W ? x[(c * H + iy) * W + ix] : 0f;
                        }
                    }
                }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds each column entry back to its pixel.</summary>
    public void Col2ImAdd(ReadOnlySpan<float> cols, Span<float> dx)
    {
        int oh = OutH, ow = OutW;
        for (var c = 0; c < C; c++)
            for (var i = 0; i < Kh; i++)
                for (var j = 0; j < Kw; j++)
                {
                    var row = cols.Slice(((c * Kh + i) * Kw + j) * oh * ow, oh * ow);
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var iy = oy * Stride + i - Padding;
                        if ((uint)iy >= (uint)H) continue;
                        for (var ox = 0; ox < ow; ox++)
                        {
                            var ix = ox * Stride + j - Padding;
                            if ((uint)ix < (uint)W) dx[(c * H + iy) * W + ix] += row[oy * ow + ox];
                        }
                    }
                }
    }
}
