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
        var plan = Conv2dPlan(input, weight, bias, stride, padding, dilation, groups);
        var output = ConvolveForward(input, weight, bias, plan, Activation.Identity, null);
        return RecordConvolve(output, input, weight, bias, plan);
    }

    /// <summary>
    /// Inference-only <see cref="Conv2d"/> followed by <paramref name="activation"/> (Identity, ReLU, Tanh
    /// or Sigmoid) and, when <paramref name="maxPool"/> is given, max pooling with that (kernel, stride,
    /// padding), in one pass: each chunk's product is pooled while still in cache, and the bias and
    /// activation are applied to the pooled values (max pooling commutes with adding a per-channel
    /// constant and with a non-decreasing activation). Neither the full-size convolution output nor the
    /// activation's copy is allocated. Records no gradient: callers use it only when none is needed.
    /// </summary>
    internal static Tensor Conv2dFused(Tensor input, Tensor weight, Tensor? bias, int stride, int padding, int dilation, int groups,
        Activation activation, (int Kernel, int Stride, int Padding)? maxPool)
    {
        var plan = Conv2dPlan(input, weight, bias, stride, padding, dilation, groups);
        var grid = maxPool is var (k, s, p)
            ? Grid(new PoolWindow(k, k, s, s, p, p, "MaxPool2d"), PoolKind.Max, plan.Geometry.OutH, plan.Geometry.OutW,
                [input._shape[0], weight._shape[0], plan.Geometry.OutH, plan.Geometry.OutW])
            : null;
        return ConvolveForward(input, weight, bias, plan, activation, grid);
    }

    private static ConvPlan Conv2dPlan(Tensor input, Tensor weight, Tensor? bias, int stride, int padding, int dilation, int groups)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4 || weight.Rank != 4)
            throw new ArgumentException($"Conv2d needs input [N, C, H, W] and weight [O, C/groups, kH, kW]; got input {FormatShape(input._shape)} and weight {FormatShape(weight._shape)}.", nameof(input));
        return Plan(input, weight, bias, stride, stride, padding, padding, dilation, dilation, groups, "Conv2d");
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
        var plan = Plan(x, w, bias, 1, stride, 0, padding, 1, dilation, groups, "Conv1d");
        var y = RecordConvolve(ConvolveForward(x, w, bias, plan, Activation.Identity, null), x, w, bias, plan);
        return y.Reshape(y._shape[0], y._shape[1], y._shape[3]);
    }

    /// <summary>Checks the shapes and options of a convolution and plans its products.</summary>
    private static ConvPlan Plan(Tensor input, Tensor weight, Tensor? bias, int sh, int sw, int ph, int pw, int dh, int dw, int groups, string op)
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
        return new ConvPlan(geo, n, o, groups);
    }

    /// <summary>
    /// The convolution's output [N, O, H', W'], or with <paramref name="pool"/> its max-pooled output, with
    /// bias and <paramref name="activation"/> applied (see <see cref="Conv2dFused"/>).
    /// </summary>
    private static Tensor ConvolveForward(Tensor input, Tensor weight, Tensor? bias, ConvPlan plan, Activation activation, PoolGrid? pool)
    {
        var geo = plan.Geometry;
        int n = plan.Images, o = plan.OutChannels, groups = plan.Groups;
        int oh = pool?.OutH ?? geo.OutH, ow = pool?.OutW ?? geo.OutW;
        var output = new Tensor(GC.AllocateUninitializedArray<float>(n * o * oh * ow), [n, o, oh, ow]);
        Blas.ForBlocks(plan.Blocks, blk =>
        {
            var colBuf = ArrayPool<float>.Shared.Rent(plan.Rows * plan.ChunkColumns);
            var yBuf = ArrayPool<float>.Shared.Rent(o * plan.ChunkColumns);
            foreach (var (first, count) in plan.ChunksOf(blk))
            {
                var ld = count * geo.Cols;
                plan.Im2Col(input.Span, first, count, colBuf);
                for (var g = 0; g < groups; g++)
                    Blas.SgemmSerial(false, false, plan.Og, ld, plan.Rg, 1f, weight.Span.Slice(g * plan.Og * plan.Rg, plan.Og * plan.Rg),
                        colBuf.AsSpan(g * plan.Rg * ld, plan.Rg * ld), 0f, yBuf.AsSpan(g * plan.Og * ld, plan.Og * ld));
                Scatter(plan, yBuf, output.Span, first, count, bias, activation, pool);
            }
            ArrayPool<float>.Shared.Return(colBuf);
            ArrayPool<float>.Shared.Return(yBuf);
        });
        return output;
    }

    /// <summary>
    /// Writes a chunk's product [O, count·H'W'] into the [N, O, H'', W''] output: each image's channel
    /// plane max-pooled when <paramref name="pool"/> is given, then bias and activation applied.
    /// </summary>
    private static void Scatter(ConvPlan plan, ReadOnlySpan<float> y, Span<float> output, int first, int count, Tensor? bias,
        Activation activation, PoolGrid? pool)
    {
        var geo = plan.Geometry;
        int cols = geo.Cols, ld = count * cols, o = plan.OutChannels;
        var outCols = pool is null ? cols : pool.OutH * pool.OutW;
        for (var i = 0; i < count; i++)
            for (var oc = 0; oc < o; oc++)
            {
                var src = y.Slice(oc * ld + i * cols, cols);
                var dst = output.Slice(((first + i) * o + oc) * outCols, outCols);
                var from = src;
                if (pool is not null)
                {
                    PoolForward(src, dst, PoolKind.Max, null, 1, geo.OutH, geo.OutW, pool);
                    from = dst;
                }
                if (bias is not null) TensorPrimitives.Add(from, bias.Span[oc], dst);
                else if (pool is null) src.CopyTo(dst);
                ActivateInPlace(dst, activation);
            }
    }

    private static Tensor RecordConvolve(Tensor output, Tensor input, Tensor weight, Tensor? bias, ConvPlan plan)
    {
        var tracks = IsGradEnabled && (input.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false));
        if (!tracks) return output;
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Record(output, inputs, r => ConvolveBackward(r, input, weight, bias, plan));
    }

    /// <summary>
    /// Per chunk of images: G gathered as [O, images·H'W'], dW_g += G_g·cols_gᵀ (one partial sum per
    /// block of chunks, added at the end), dcols_g = W_gᵀ·G_g scattered back by col2im, db = row sums of G.
    /// </summary>
    private static void ConvolveBackward(Tensor r, Tensor input, Tensor weight, Tensor? bias, ConvPlan plan)
    {
        var geo = plan.Geometry;
        int o = weight._shape[0], groups = plan.Groups, og = plan.Og, rg = plan.Rg;
        if (input.RequiresGrad) input.GradSpan();
        var dwParts = new float[plan.Blocks][];
        var dbParts = new float[plan.Blocks][];
        Blas.ForBlocks(plan.Blocks, blk =>
        {
            var colBuf = ArrayPool<float>.Shared.Rent(plan.Rows * plan.ChunkColumns);
            var gBuf = ArrayPool<float>.Shared.Rent(o * plan.ChunkColumns);
            var dw = weight.RequiresGrad ? new float[weight.Length] : null;
            var db = bias is not null && bias.RequiresGrad ? new float[o] : null;
            foreach (var (first, count) in plan.ChunksOf(blk))
            {
                var ld = count * geo.Cols;
                plan.Gather(r.Grad!.Span, gBuf, first, count);
                if (dw is not null)
                {
                    plan.Im2Col(input.Span, first, count, colBuf);
                    for (var g = 0; g < groups; g++)
                        Blas.SgemmSerial(false, true, og, rg, ld, 1f, gBuf.AsSpan(g * og * ld, og * ld),
                            colBuf.AsSpan(g * rg * ld, rg * ld), 1f, dw.AsSpan(g * og * rg, og * rg));
                }
                if (input.RequiresGrad)
                {
                    for (var g = 0; g < groups; g++)
                        Blas.SgemmSerial(true, false, rg, ld, og, 1f, weight.Span.Slice(g * og * rg, og * rg),
                            gBuf.AsSpan(g * og * ld, og * ld), 0f, colBuf.AsSpan(g * rg * ld, rg * ld));
                    plan.Col2ImAdd(colBuf, input._grad!.Span, first, count);
                }
                if (db is not null)
                    for (var oc = 0; oc < o; oc++) db[oc] += TensorPrimitives.Sum(gBuf.AsSpan(oc * ld, ld));
            }
            ArrayPool<float>.Shared.Return(colBuf);
            ArrayPool<float>.Shared.Return(gBuf);
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
