using System.Numerics.Tensors;

namespace RaySharp.Nn;

/// <summary>
/// The index arithmetic of im2col / col2im for one image [C, H, W] and a kernel kH×kW with per-axis
/// stride, zero padding and dilation (1-D convolutions use H = kH = 1).
/// </summary>
internal readonly record struct ConvGeometry(int C, int H, int W, int Kh, int Kw, int StrideH, int StrideW,
    int PadH, int PadW, int DilationH, int DilationW)
{
    public int OutH => (H + 2 * PadH - DilationH * (Kh - 1) - 1) / StrideH + 1;

    public int OutW => (W + 2 * PadW - DilationW * (Kw - 1) - 1) / StrideW + 1;

    /// <summary>Rows of the column matrix: C·kH·kW.</summary>
    public int Rows => C * Kh * Kw;

    /// <summary>Columns of the column matrix: H'·W'.</summary>
    public int Cols => OutH * OutW;

    /// <summary>
    /// cols[(c·kH + i)·kW + j, oy·W' + ox] = x[c, oy·sH + i·dH - pH, ox·sW + j·dW - pW] (0 outside the
    /// image), row r starting at r·<paramref name="rowStride"/> (several images' columns side by side).
    /// </summary>
    public void Im2Col(ReadOnlySpan<float> x, Span<float> cols, int rowStride)
    {
        int oh = OutH, ow = OutW;
        for (var c = 0; c < C; c++)
            for (var i = 0; i < Kh; i++)
                for (var j = 0; j < Kw; j++)
                {
                    var row = cols.Slice(((c * Kh + i) * Kw + j) * rowStride, oh * ow);
                    var (lo, hi) = ValidColumns(j);
                    var dx = j * DilationW - PadW;
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var dst = row.Slice(oy * ow, ow);
                        var iy = oy * StrideH + i * DilationH - PadH;
                        if ((uint)iy >= (uint)H || lo >= hi)
                        {
                            dst.Clear();
                            continue;
                        }
                        dst[..lo].Clear();
                        dst[hi..].Clear();
                        var src = x.Slice((c * H + iy) * W, W);
                        if (StrideW == 1)
                            src.Slice(lo + dx, hi - lo).CopyTo(dst[lo..hi]);
                        else
                            for (var ox = lo; ox < hi; ox++) dst[ox] = src[ox * StrideW + dx];
                    }
                }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds each column entry back to its pixel.</summary>
    public void Col2ImAdd(ReadOnlySpan<float> cols, Span<float> dx, int rowStride)
    {
        int oh = OutH, ow = OutW;
        for (var c = 0; c < C; c++)
            for (var i = 0; i < Kh; i++)
                for (var j = 0; j < Kw; j++)
                {
                    var row = cols.Slice(((c * Kh + i) * Kw + j) * rowStride, oh * ow);
                    var (lo, hi) = ValidColumns(j);
                    if (lo >= hi) continue;
                    var shift = j * DilationW - PadW;
                    for (var oy = 0; oy < oh; oy++)
                    {
                        var iy = oy * StrideH + i * DilationH - PadH;
                        if ((uint)iy >= (uint)H) continue;
                        var src = row.Slice(oy * ow, ow);
                        var dst = dx.Slice((c * H + iy) * W, W);
                        if (StrideW == 1)
                        {
                            var d = dst.Slice(lo + shift, hi - lo);
                            TensorPrimitives.Add(d, src[lo..hi], d);
                        }
                        else
                        {
                            for (var ox = lo; ox < hi; ox++) dst[ox * StrideW + shift] += src[ox];
                        }
                    }
                }
    }

    /// <summary>The output columns [lo, hi) whose kernel column <paramref name="j"/> falls inside the image.</summary>
    private (int Lo, int Hi) ValidColumns(int j)
    {
        var shift = j * DilationW - PadW; // ix = ox·sW + shift
        var lo = shift >= 0 ? 0 : (-shift + StrideW - 1) / StrideW;
        var hi = W - 1 - shift < 0 ? 0 : (W - 1 - shift) / StrideW + 1;
        return (lo, Math.Min(hi, OutW));
    }
}
