using System.Buffers;
using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as PyTorch's <c>conv2d</c>) through im2col and one matrix
    /// multiply per image and group: <paramref name="input"/> [N, C, H, W], <paramref name="weight"/>
    /// [O, C/groups, kH, kW], <paramref name="bias"/> [O] or null; the result is [N, O, H', W'] with
    /// H' = (H + 2·padding - dilation·(kH - 1) - 1) / stride + 1 (likewise W'). Images are split
    /// across <see cref="Blas.Threads"/> threads when the product is large.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together, or the kernel does not fit the padded image.</exception>
    /// <exception cref="ArgumentOutOfRangeException">stride or dilation &lt; 1, padding &lt; 0, or groups does not divide both channel counts.</exception>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException($"Conv2d needs input [N, C, H, W] and weight [O, C/groups, kH, kW]; got input {FormatShape(input._shape)} and weight {FormatShape(weight._shape)}.", nameof(input));
        return Convolve(input, weight, bias, stride, stride, padding, padding, dilation, dilation, groups, "Conv2d");
    }

    /// <summary>
    /// 1-D convolution (PyTorch's <c>conv1d</c>): <paramref name="input"/> [N, C, L], <paramref name="weight"/>
    /// [O, C/groups, k], <paramref name="bias"/> [O] or null; the result is [N, O, L'] with
    /// L' = (L + 2·padding - dilation·(k - 1) - 1) / stride + 1.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together, or the kernel does not fit the padded sequence.</exception>
    /// <exception cref="ArgumentOutOfRangeException">stride or dilation &lt; 1, padding &lt; 0, or groups does not divide both channel counts.</exception>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 3 || weight.Rank != 3)
            throw new ArgumentException($"Conv1d needs input [N, C, L] and weight [O, C/groups, k]; got input {FormatShape(input._shape)} and weight {FormatShape(weight._shape)}.", nameof(input));
        var x = input.Reshape(input._shape[0], input._shape[1], 1, input._shape[2]);
        var w = weight.Reshape(weight._shape[0], weight._shape[1], 1, weight._shape[2]);
        var y = Convolve(x, w, bias, 1, stride, 0, padding, 1, dilation, groups, "Conv1d");
        return y.Reshape(y._shape[0], y._shape[1], y._shape[3]);
    }

    private static Tensor Convolve(Tensor input, Tensor weight, Tensor? bias, int sh, int sw, int ph, int pw, int dh, int dw, int groups, string op)
    {
        if (sw < 1 || pw < 0 || dw < 1 || groups < 1)
            throw new ArgumentOutOfRangeException(nameof(groups), $"{op} needs stride >= 1, padding >= 0, dilation >= 1 and groups >= 1; got stride {sw}, padding {pw}, dilation {dw}, groups {groups}.");
        int n = input._shape[0], c = input._shape[1], h = input._shape[2], w = input._shape[3];
        int o = weight._shape[0], kh = weight._shape[2], kw = weight._shape[3];
        if (c % groups != 0 || o % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), $"{op}: groups ({groups}) must divide the input channels ({c}) and the output channels ({o}).");
        if (weight._shape[1] * groups != c)
            throw new ArgumentException($"{op}: input {FormatShape(input._shape)} has {c} channels, but weight {FormatShape(weight._shape)} with groups={groups} expects {weight._shape[1] * groups}.", nameof(weight));
        if (bias is not null && (bias.Rank != 1 || bias._shape[0] != o))
            throw new ArgumentException($"{op} bias must be [{o}] for weight {FormatShape(weight._shape)}; got {FormatShape(bias._shape)}.", nameof(bias));
        var geo = new ConvGeometry(c, h, w, kh, kw, sh, sw, ph, pw, dh, dw);
        if (h + 2 * ph < dh * (kh - 1) + 1 || w + 2 * pw < dw * (kw - 1) + 1)
            throw new ArgumentException($"{op}: the (dilated) kernel {dh * (kh - 1) + 1}×{dw * (kw - 1) + 1} is larger than the padded input {h + 2 * ph}×{w + 2 * pw} (input {FormatShape(input._shape)}).", nameof(weight));
        int cols = geo.Cols, rows = geo.Rows, og = o / groups, rg = rows / groups, imgIn = c * h * w, imgOut = o * cols;

        var output = new Tensor(GC.AllocateUninitializedArray<float>(n * imgOut), [n, o, geo.OutH, geo.OutW]);
        var blocks = Blas.Blocks((long)n * o * rg * cols, n);
        Blas.ForBlocks(blocks, blk =>
        {
            var colBuf = ArrayPool<float>.Shared.Rent(rows * cols);
            for (var img = Blas.BlockStart(n, blocks, blk); img < Blas.BlockStart(n, blocks, blk + 1); img++)
            {
                geo.Im2Col(input.Span.Slice(img * imgIn, imgIn), colBuf);
                var dst = output.Span.Slice(img * imgOut, imgOut);
                if (bias is not null)
                    for (var oc = 0; oc < o; oc++) dst.Slice(oc * cols, cols).Fill(bias.Span[oc]);
                for (var g = 0; g < groups; g++)
                    Blas.SgemmSerial(false, false, og, cols, rg, 1f, weight.Span.Slice(g * og * rg, og * rg),
                        colBuf.AsSpan(g * rg * cols, rg * cols), bias is null ? 0f : 1f, dst.Slice(g * og * cols, og * cols));
            }
            ArrayPool<float>.Shared.Return(colBuf);
        });

        var tracks = IsGradEnabled && (input.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false));
        if (!tracks) return output;
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Record(output, inputs, r => ConvolveBackward(r, input, weight, bias, geo, groups, blocks));
    }

    /// <summary>
    /// dW = Σ G·colsᵀ (one partial sum per block of images, added at the end), dX = col2im(Wᵀ·G) per
    /// image, db = Σ G over images and positions.
    /// </summary>
    private static void ConvolveBackward(Tensor r, Tensor input, Tensor weight, Tensor? bias, ConvGeometry geo, int groups, int blocks)
    {
        int n = input._shape[0], o = weight._shape[0], cols = geo.Cols, rows = geo.Rows;
        int og = o / groups, rg = rows / groups, imgIn = geo.C * geo.H * geo.W, imgOut = o * cols;
        if (input.RequiresGrad) input.GradSpan();
        var dwParts = new float[blocks][];
        var dbParts = new float[blocks][];
        Blas.ForBlocks(blocks, blk =>
        {
            var colBuf = ArrayPool<float>.Shared.Rent(rows * cols);
            var dw = weight.RequiresGrad ? new float[weight.Length] : null;
            var db = bias is not null && bias.RequiresGrad ? new float[o] : null;
            for (var img = Blas.BlockStart(n, blocks, blk); img < Blas.BlockStart(n, blocks, blk + 1); img++)
            {
                var gi = r.Grad!.Span.Slice(img * imgOut, imgOut);
                if (dw is not null)
                {
                    geo.Im2Col(input.Span.Slice(img * imgIn, imgIn), colBuf);
                    for (var g = 0; g < groups; g++) // dW_g += G_g·cols_gᵀ
                        Blas.SgemmSerial(false, true, og, rg, cols, 1f, gi.Slice(g * og * cols, og * cols),
                            colBuf.AsSpan(g * rg * cols, rg * cols), 1f, dw.AsSpan(g * og * rg, og * rg));
                }
                if (input.RequiresGrad)
                {
                    for (var g = 0; g < groups; g++) // dcols_g = W_gᵀ·G_g
                        Blas.SgemmSerial(true, false, rg, cols, og, 1f, weight.Span.Slice(g * og * rg, og * rg),
                            gi.Slice(g * og * cols, og * cols), 0f, colBuf.AsSpan(g * rg * cols, rg * cols));
                    geo.Col2ImAdd(colBuf, input._grad!.Span.Slice(img * imgIn, imgIn));
                }
                if (db is not null)
                    for (var oc = 0; oc < o; oc++) db[oc] += TensorPrimitives.Sum(gi.Slice(oc * cols, cols));
            }
            ArrayPool<float>.Shared.Return(colBuf);
            dwParts[blk] = dw!;
            dbParts[blk] = db!;
        });
        if (weight.RequiresGrad)
        {
            var dst = weight.GradSpan();
            foreach (var part in dwParts) TensorPrimitives.Add(dst, part, dst);
        }
        if (bias is not null && bias.RequiresGrad)
        {
            var dst = bias.GradSpan();
            foreach (var part in dbParts) TensorPrimitives.Add(dst, part, dst);
        }
    }
}
