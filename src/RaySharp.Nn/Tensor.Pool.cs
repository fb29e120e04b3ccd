using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D max pooling of [N, C, H, W] (PyTorch's <c>max_pool2d</c>, floor mode): windows of
    /// <paramref name="kernelSize"/>² every <paramref name="stride"/> (default the kernel size) over
    /// the input padded with −∞; the gradient goes to each window's (first) largest element, and a
    /// NaN in a window is its maximum.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not 4-D, or the window does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
    public Tensor MaxPool2d(int kernelSize, int? stride = null, int padding = 0)
    {
        CheckRank(4, "MaxPool2d", "[N, C, H, W]");
        var s = stride ?? kernelSize;
        return Pool(this, new PoolWindow(kernelSize, kernelSize, s, s, padding, padding, "MaxPool2d"), PoolKind.Max);
    }

    /// <summary>1-D max pooling of [N, C, L] (PyTorch's <c>max_pool1d</c>); see <see cref="MaxPool2d"/>.</summary>
    /// <exception cref="ArgumentException">The input is not 3-D, or the window does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
    public Tensor MaxPool1d(int kernelSize, int? stride = null, int padding = 0)
    {
        CheckRank(3, "MaxPool1d", "[N, C, L]");
        return Pool1d(new PoolWindow(1, kernelSize, 1, stride ?? kernelSize, 0, padding, "MaxPool1d"), PoolKind.Max);
    }

    /// <summary>
    /// 2-D average pooling of [N, C, H, W] (PyTorch's <c>avg_pool2d</c>, floor mode): each output is
    /// the mean of its window, the zero padding counted in the divisor unless
    /// <paramref name="countIncludePad"/> is false.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not 4-D, or the window does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
    public Tensor AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true)
    {
        CheckRank(4, "AvgPool2d", "[N, C, H, W]");
        var s = stride ?? kernelSize;
        return Pool(this, new PoolWindow(kernelSize, kernelSize, s, s, padding, padding, "AvgPool2d"),
            countIncludePad ? PoolKind.AvgIncludePad : PoolKind.Avg);
    }

    /// <summary>1-D average pooling of [N, C, L] (PyTorch's <c>avg_pool1d</c>); see <see cref="AvgPool2d"/>.</summary>
    /// <exception cref="ArgumentException">The input is not 3-D, or the window does not fit.</exception>
    /// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
    public Tensor AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true)
    {
        CheckRank(3, "AvgPool1d", "[N, C, L]");
        return Pool1d(new PoolWindow(1, kernelSize, 1, stride ?? kernelSize, 0, padding, "AvgPool1d"),
            countIncludePad ? PoolKind.AvgIncludePad : PoolKind.Avg);
    }

    /// <summary>
    /// Adaptive average pooling of [N, C, H, W] to [N, C, outH, outW] (PyTorch's
    /// <c>adaptive_avg_pool2d</c>): output cell i averages input rows ⌊i·H/outH⌋ … ⌈(i+1)·H/outH⌉ - 1
    /// (likewise columns).
    /// </summary>
    /// <exception cref="ArgumentException">The input is not 4-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An output size is not positive.</exception>
    public Tensor AdaptiveAvgPool2d(int outputHeight, int outputWidth)
    {
        CheckRank(4, "AdaptiveAvgPool2d", "[N, C, H, W]");
        return AdaptiveAvg(this, outputHeight, outputWidth, "AdaptiveAvgPool2d");
    }

    /// <summary>Adaptive average pooling of [N, C, L] to [N, C, outL] (PyTorch's <c>adaptive_avg_pool1d</c>).</summary>
    /// <exception cref="ArgumentException">The input is not 3-D.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The output size is not positive.</exception>
    public Tensor AdaptiveAvgPool1d(int outputSize)
    {
        CheckRank(3, "AdaptiveAvgPool1d", "[N, C, L]");
        var y = AdaptiveAvg(Reshape(_shape[0], _shape[1], 1, _shape[2]), 1, outputSize, "AdaptiveAvgPool1d");
        return y.Reshape(_shape[0], _shape[1], outputSize);
    }

    private void CheckRank(int rank, string op, string layout)
    {
        if (Rank != rank)
            throw new ArgumentException($"{op} needs input {layout}; got {FormatShape(_shape)}.");
    }

    private Tensor Pool1d(PoolWindow window, PoolKind kind)
    {
        var y = Pool(Reshape(_shape[0], _shape[1], 1, _shape[2]), window, kind);
        return y.Reshape(y._shape[0], y._shape[1], y._shape[3]);
    }

    private enum PoolKind
    {
        Max,
        Avg,
        AvgIncludePad,
    }

    private readonly record struct PoolWindow(int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, string Op);

    /// <summary>The output size of a pooling window over an h×w plane, each output row's and column's clipped window, and each window's divisor.</summary>
    private sealed record PoolGrid(int OutH, int OutW, (int Lo, int Hi)[] RowsOf, (int Lo, int Hi)[] ColsOf, float[] Divisor);

    /// <summary>Checks <paramref name="win"/> against an h×w plane of <paramref name="shape"/> and computes its <see cref="PoolGrid"/>.</summary>
    private static PoolGrid Grid(PoolWindow win, PoolKind kind, int h, int w, int[] shape)
    {
        if (win.Kh < 1 || win.Kw < 1 || win.Sh < 1 || win.Sw < 1 || win.Ph < 0 || win.Pw < 0 || 2 * win.Ph > win.Kh || 2 * win.Pw > win.Kw)
            throw new ArgumentOutOfRangeException(nameof(win), $"{win.Op} needs kernel >= 1, stride >= 1 and 0 <= padding <= kernel/2; got kernel {win.Kw}, stride {win.Sw}, padding {win.Pw}.");
        if (h + 2 * win.Ph < win.Kh || w + 2 * win.Pw < win.Kw)
            throw new ArgumentException($"{win.Op}: the window {win.Kh}×{win.Kw} is larger than the padded input {h + 2 * win.Ph}×{w + 2 * win.Pw} (input {FormatShape(shape)}).");
        int oh = (h + 2 * win.Ph - win.Kh) / win.Sh + 1, ow = (w + 2 * win.Pw - win.Kw) / win.Sw + 1;
        var rowsOf = new (int Lo, int Hi)[oh];
        var colsOf = new (int Lo, int Hi)[ow];
        var divisor = new float[oh * ow];
        for (var oy = 0; oy < oh; oy++)
            for (var ox = 0; ox < ow; ox++)
            {
                var (y0, y1, x0, x1, count) = Window(win, kind, h, w, oy, ox);
                (rowsOf[oy], colsOf[ox], divisor[oy * ow + ox]) = ((y0, y1), (x0, x1), count);
            }
        return new PoolGrid(oh, ow, rowsOf, colsOf, divisor);
    }

    private static Tensor Pool(Tensor input, PoolWindow win, PoolKind kind)
    {
        int planes = input._shape[0] * input._shape[1], h = input._shape[2], w = input._shape[3];
        var grid = Grid(win, kind, h, w, input._shape);
        int oh = grid.OutH, ow = grid.OutW;
        var (rowsOf, colsOf, divisor) = (grid.RowsOf, grid.ColsOf, grid.Divisor);
        var output = new Tensor(new float[planes * oh * ow], [input._shape[0], input._shape[1], oh, ow]);
        // The arg-max is only needed for the backward pass; without it max pooling is branch-free.
        var argMax = kind == PoolKind.Max && Tracks(input) ? new int[output.Length] : null;
        PoolForward(input.Span, output.Span, kind, argMax, planes, h, w, grid);
        if (!Tracks(input)) return output;
        return Record(output, [input], r =>
        {
            var g = r.Grad!.Span;
            var dx = input.GradSpan();
            if (argMax is not null)
            {
                for (var i = 0; i < argMax.Length; i++) dx[argMax[i]] += g[i];
                return;
            }
            for (var p = 0; p < planes; p++)
                for (var oy = 0; oy < oh; oy++)
                    for (var ox = 0; ox < ow; ox++)
                    {
                        var ((y0, y1), (x0, x1)) = (rowsOf[oy], colsOf[ox]);
                        var share = g[(p * oh + oy) * ow + ox] / divisor[oy * ow + ox];
                        for (var iy = y0; iy < y1; iy++)
                            for (var ix = x0; ix < x1; ix++) dx[p * h * w + iy * w + ix] += share;
                    }
        });
    }

    /// <summary>The pooling loops, outside the method whose locals the backward closure captures (those live on the heap).</summary>
    private static void PoolForward(ReadOnlySpan<float> x, Span<float> y, PoolKind kind, int[]? argMax, int planes, int h, int w, PoolGrid grid)
    {
        if (kind == PoolKind.Max && argMax is null)
        {
            MaxPoolRows(x, y, planes, h, w, grid);
            return;
        }
        int oh = grid.OutH, ow = grid.OutW;
        var (rowsOf, colsOf, divisor) = (grid.RowsOf, grid.ColsOf, grid.Divisor);
        for (var p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * h * w, h * w);
            for (var oy = 0; oy < oh; oy++)
            {
                var (y0, y1) = rowsOf[oy];
                for (var ox = 0; ox < ow; ox++)
                {
                    var (x0, x1) = colsOf[ox];
                    var at = (p * oh + oy) * ow + ox;
                    if (argMax is null)
                    {
                        var sum = 0f;
                        for (var iy = y0; iy < y1; iy++)
                            for (var ix = x0; ix < x1; ix++) sum += plane[iy * w + ix];
                        y[at] = sum / divisor[oy * ow + ox];
                        continue;
                    }
                    var best = float.NegativeInfinity;
                    var bestAt = y0 * w + x0;
                    for (var iy = y0; iy < y1; iy++)
                        for (var ix = x0; ix < x1; ix++)
                        {
                            var v = plane[iy * w + ix];
                            if (v > best || (float.IsNaN(v) && !float.IsNaN(best))) (best, bestAt) = (v, iy * w + ix);
                        }
                    y[at] = best;
                    argMax[at] = p * h * w + bestAt;
                }
            }
        }
    }

    /// <summary>
    /// Max pooling without arg-max: the rows of each output row's windows are first reduced to one row
    /// with vectorised maxima, then each window's columns of that row. Windows are never empty
    /// (padding ≤ kernel/2), and both maxima propagate NaN, as PyTorch does.
    /// </summary>
    private static void MaxPoolRows(ReadOnlySpan<float> x, Span<float> y, int planes, int h, int w, PoolGrid grid)
    {
        int oh = grid.OutH, ow = grid.OutW;
        Span<float> rowMax = w <= 1024 ? stackalloc float[w] : new float[w];
        for (var p = 0; p < planes; p++)
        {
            var plane = x.Slice(p * h * w, h * w);
            for (var oy = 0; oy < oh; oy++)
            {
                var (y0, y1) = grid.RowsOf[oy];
                plane.Slice(y0 * w, w).CopyTo(rowMax);
                for (var iy = y0 + 1; iy < y1; iy++) TensorPrimitives.Max(rowMax, plane.Slice(iy * w, w), rowMax);
                var dst = y.Slice((p * oh + oy) * ow, ow);
                for (var ox = 0; ox < ow; ox++)
                {
                    var (x0, x1) = grid.ColsOf[ox];
                    var max = rowMax[x0];
                    for (var ix = x0 + 1; ix < x1; ix++) max = MathF.Max(max, rowMax[ix]);
                    dst[ox] = max;
                }
            }
        }
    }

    /// <summary>The window of output (oy, ox) clipped to the image, and the divisor of an average over it.</summary>
    private static (int Y0, int Y1, int X0, int X1, int Divisor) Window(PoolWindow win, PoolKind kind, int h, int w, int oy, int ox)
    {
        int ys = oy * win.Sh - win.Ph, xs = ox * win.Sw - win.Pw;
        int ye = Math.Min(ys + win.Kh, h + win.Ph), xe = Math.Min(xs + win.Kw, w + win.Pw);
        var padded = (ye - ys) * (xe - xs);
        int y0 = Math.Max(ys, 0), x0 = Math.Max(xs, 0), y1 = Math.Min(ye, h), x1 = Math.Min(xe, w);
        return (y0, y1, x0, x1, kind == PoolKind.AvgIncludePad ? padded : (y1 - y0) * (x1 - x0));
    }

    private static Tensor AdaptiveAvg(Tensor input, int oh, int ow, string op)
    {
        if (oh < 1 || ow < 1)
            throw new ArgumentOutOfRangeException(nameof(oh), $"{op} needs positive output sizes; got {oh}×{ow}.");
        int planes = input._shape[0] * input._shape[1], h = input._shape[2], w = input._shape[3];
        if (h == 0 || w == 0)
            throw new ArgumentException($"{op} needs a non-empty input; got {FormatShape(input._shape)}.");
        var output = new Tensor(new float[planes * oh * ow], [input._shape[0], input._shape[1], oh, ow]);
        var x = input.Span;
        var y = output.Span;
        for (var p = 0; p < planes; p++)
            for (var oy = 0; oy < oh; oy++)
                for (var ox = 0; ox < ow; ox++)
                {
                    var (y0, y1, x0, x1) = (oy * h / oh, ((oy + 1) * h + oh - 1) / oh, ox * w / ow, ((ox + 1) * w + ow - 1) / ow);
                    var sum = 0f;
                    for (var iy = y0; iy < y1; iy++)
                        for (var ix = x0; ix < x1; ix++) sum += x[p * h * w + iy * w + ix];
                    y[(p * oh + oy) * ow + ox] = sum / ((y1 - y0) * (x1 - x0));
                }
        if (!Tracks(input)) return output;
        return Record(output, [input], r =>
        {
            var g = r.Grad!.Span;
            var dx = input.GradSpan();
            for (var p = 0; p < planes; p++)
                for (var oy = 0; oy < oh; oy++)
                    for (var ox = 0; ox < ow; ox++)
                    {
                        var (y0, y1, x0, x1) = (oy * h / oh, ((oy + 1) * h + oh - 1) / oh, ox * w / ow, ((ox + 1) * w + ow - 1) / ow);
                        var share = g[(p * oh + oy) * ow + ox] / ((y1 - y0) * (x1 - x0));
                        for (var iy = y0; iy < y1; iy++)
                            for (var ix = x0; ix < x1; ix++) dx[p * h * w + iy * w + ix] += share;
                    }
        });
    }
}
