using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's <c>matmul</c> rules, through <see cref="Blas.Sgemm"/>: [m, k] ×
    /// [k, n] → [m, n]; a 1-D operand is a row (left) or column (right) vector whose dimension is
    /// removed from the result; operands of rank 3 or 4 are stacks of matrices whose leading (batch)
    /// dimensions broadcast, e.g. [B, H, m, k] × [B, 1, k, n] → [B, H, m, n] or [B, m, k] × [k, n] →
    /// [B, m, n].
    /// </summary>
    /// <exception cref="ArgumentException">A scalar operand, inner sizes that differ, or batch dimensions that do not broadcast.</exception>
    public Tensor MatMul(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (Rank == 0 || other.Rank == 0 || _shape[^1] != other._shape[other.Rank == 1 ? 0 : ^2])
            throw new ArgumentException($"MatMul needs [..., m, k] × [..., k, n] (or a vector of size k); got {FormatShape(_shape)} × {FormatShape(other._shape)}.", nameof(other));
        if (Rank != 2 || other.Rank != 2) return BatchedMatMul(other);
        var (m, k, n) = (_shape[0], _shape[1], other._shape[1]);
        var o = new Tensor(GC.AllocateUninitializedArray<float>(m * n), [m, n]); // sgemm with beta 0 writes every element
        Blas.Sgemm(false, false, m, n, k, 1f, Span, other.Span, 0f, o.Span);
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            var g = r.Grad!.Span;
            if (a.RequiresGrad)
            {
                var da = a.GradSpan(out var fresh);
                Blas.Sgemm(false, true, m, k, n, 1f, g, other.Span, fresh ? 0f : 1f, da); // dA = G·Bᵀ
            }
            if (other.RequiresGrad)
            {
                var db = other.GradSpan(out var fresh);
                Blas.Sgemm(true, false, k, n, m, 1f, a.Span, g, fresh ? 0f : 1f, db); // dB = Aᵀ·G
            }
        });
    }

    /// <summary>
    /// The affine map x·Wᵀ + b of PyTorch's <c>nn.Linear</c>, fused into one matrix multiply:
    /// <paramref name="input"/> is [..., in], <paramref name="weight"/> [out, in], <paramref name="bias"/>
    /// [out] or null; the result is [..., out].
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias) => Linear(input, weight, bias, Activation.Identity);

    /// <summary>
    /// activation(x·Wᵀ + b) as one recorded operation. For ReLU, Tanh and Sigmoid the activation is
    /// applied in place and differentiated from its output, saving an intermediate tensor and its
    /// gradient (the MLP hot path); other activations are applied as a separate operation.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, Activation activation) =>
        Linear(input, weight, bias, activation, hidden: false);

    /// <summary>
    /// <see cref="Linear(Tensor, Tensor, Tensor?, Activation)"/>; with <paramref name="hidden"/> (and a
    /// fused activation) the result's storage is rented from the array pool and the tensor is marked
    /// <see cref="HiddenPooled"/>: only for activations that the caller alone sees and hands to one
    /// consuming operation (<see cref="Mlp"/>'s hidden layers).
    /// </summary>
    internal static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, Activation activation, bool hidden)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2 || input.Rank == 0 || input._shape[^1] != weight._shape[1])
            throw new ArgumentException($"Linear needs input [..., in] and weight [out, in]; got input {FormatShape(input._shape)} and weight {FormatShape(weight._shape)}.", nameof(input));
        var (outF, inF) = (weight._shape[0], weight._shape[1]);
        if (bias is not null && (bias.Rank != 1 || bias._shape[0] != outF))
            throw new ArgumentException($"Linear bias must be [{outF}] for weight {FormatShape(weight._shape)}; got {FormatShape(bias._shape)}.", nameof(bias));
        if (activation is not (Activation.Identity or Activation.ReLU or Activation.Tanh or Activation.Sigmoid))
            return Linear(input, weight, bias, Activation.Identity).Apply(activation);

        var rows = inF == 0 ? 0 : input.Length / inF;
        var shape = (int[])input._shape.Clone();
        shape[^1] = outF;
        // Fresh multi-megabyte arrays every step cost page faults (the GC returns freed large-object
        // memory to the kernel), so hidden activations reuse pooled arrays.
        var o = hidden
            ? new Tensor(System.Buffers.ArrayPool<float>.Shared.Rent(rows * outF), 0, shape) { HiddenPooled = true }
            : new Tensor(GC.AllocateUninitializedArray<float>(rows * outF), shape);
        // One block of rows per thread: its product, then bias and activation on those rows while
        // they are still in that core's cache.
        var blocks = Blas.Blocks((long)rows * inF * outF, rows);
        Blas.ForBlocks(blocks, blk =>
        {
            int r0 = Blas.BlockStart(rows, blocks, blk), r1 = Blas.BlockStart(rows, blocks, blk + 1);
            Blas.SgemmSerial(false, true, r1 - r0, outF, inF, 1f, input.Span.Slice(r0 * inF, (r1 - r0) * inF), weight.Span,
                0f, o.Span.Slice(r0 * outF, (r1 - r0) * outF));
            BiasActivationRows(o, bias, activation, outF, r0, r1);
        });

        var tracks = IsGradEnabled && (input.RequiresGrad || weight.RequiresGrad || (bias?.RequiresGrad ?? false));
        if (!tracks) return o;
        Tensor[] inputs = bias is null ? [input, weight] : [input, weight, bias];
        return Record(o, inputs, r => LinearBackward(r, input, weight, bias, activation, rows, inF, outF));
    }

    /// <summary>
    /// The backward pass of <see cref="Linear(Tensor, Tensor, Tensor?, Activation)"/>, one block of rows
    /// per thread: the activation's derivative turns the block's rows of r's gradient into
    /// pre-activation gradients in place (r's gradient buffer belongs to this operation alone; it is
    /// released right after) while their column sums give the block's bias gradient; the same rows
    /// then give the block's rows of dX = G·W and its share of dW = Gᵀ·X, summed after the loop.
    /// </summary>
    private static void LinearBackward(Tensor r, Tensor input, Tensor weight, Tensor? bias, Activation activation, int rows, int inF, int outF)
    {
        var wantBias = bias is not null && bias.RequiresGrad;
        var dxFresh = false;
        var dwFresh = false;
        if (input.RequiresGrad) input.GradSpan(out dxFresh);
        if (weight.RequiresGrad) weight.GradSpan(out dwFresh);
        var blocks = Blas.Blocks((long)rows * inF * outF, rows);
        var biasSums = new float[blocks][];
        // Block 0 writes dW itself; the others write partial products that are added to it afterwards.
        var dwParts = new float[blocks][];
        for (var blk = 1; weight.RequiresGrad && blk < blocks; blk++)
            dwParts[blk] = System.Buffers.ArrayPool<float>.Shared.Rent(outF * inF);
        try
        {
            Blas.ForBlocks(blocks, blk =>
            {
                int r0 = Blas.BlockStart(rows, blocks, blk), r1 = Blas.BlockStart(rows, blocks, blk + 1), n = r1 - r0;
                biasSums[blk] = ActivationGradRows(r, activation, outF, r0, r1, wantBias);
                var g = r.Grad!.Span.Slice(r0 * outF, n * outF);
                if (input.RequiresGrad)
                    Blas.SgemmSerial(false, false, n, inF, outF, 1f, g, weight.Span, dxFresh ? 0f : 1f, input._grad!.Span.Slice(r0 * inF, n * inF));
                if (weight.RequiresGrad)
                {
                    var dw = blk == 0 ? weight._grad!.Span : dwParts[blk].AsSpan(0, outF * inF);
                    Blas.SgemmSerial(true, false, outF, inF, n, 1f, g, input.Span.Slice(r0 * inF, n * inF), blk == 0 && !dwFresh ? 1f : 0f, dw);
                }
            });
            if (weight.RequiresGrad)
            {
                var dw = weight._grad!.Span;
                for (var blk = 1; blk < blocks; blk++) TensorPrimitives.Add(dw, dwParts[blk].AsSpan(0, outF * inF), dw);
            }
        }
        finally
        {
            for (var blk = 1; blk < blocks; blk++)
                if (dwParts[blk] is { } part) System.Buffers.ArrayPool<float>.Shared.Return(part);
        }
        if (wantBias)
        {
            var db = bias!.GradSpan();
            foreach (var part in biasSums) TensorPrimitives.Add(db, part, db);
        }
    }

    private static void BiasActivationRows(Tensor o, Tensor? bias, Activation activation, int outF, int start, int end)
    {
        var y = o.Span;
        var bs = bias is null ? default : bias.Span;
        for (var i = start; i < end; i++)
        {
            var row = y.Slice(i * outF, outF);
            if (bias is not null) TensorPrimitives.Add(row, bs, row);
            ActivateInPlace(row, activation);
        }
    }

    /// <summary>Applies Identity, ReLU, Tanh or Sigmoid (the activations the fused kernels take) in place.</summary>
    private static void ActivateInPlace(Span<float> v, Activation activation)
    {
        switch (activation)
        {
            case Activation.ReLU: TensorPrimitives.Max(v, 0f, v); break;
            case Activation.Tanh: TensorPrimitives.Tanh(v, v); break;
            case Activation.Sigmoid: TensorPrimitives.Sigmoid(v, v); break;
        }
    }

    /// <summary>Turns rows of r's gradient into pre-activation gradients in place; returns their column sums when asked.</summary>
    private static float[] ActivationGradRows(Tensor r, Activation activation, int outF, int start, int end, bool sumColumns)
    {
        var g = r.Grad!.Span;
        var act = r.Span;
        var sum = sumColumns ? new float[outF] : [];
        var tmp = activation is Activation.Tanh or Activation.Sigmoid ? new float[outF] : null;
        for (var i = start; i < end; i++)
        {
            var gr = g.Slice(i * outF, outF);
            var ar = act.Slice(i * outF, outF);
            switch (activation)
            {
                case Activation.ReLU:
                    ReluMask(ar, gr, gr);
                    break;
                case Activation.Tanh: // g·(1 - y²)
                    TensorPrimitives.Multiply(ar, ar, tmp);
                    TensorPrimitives.Subtract(1f, tmp, tmp);
                    TensorPrimitives.Multiply(gr, tmp, gr);
                    break;
                case Activation.Sigmoid: // g·σ(1 - σ)
                    TensorPrimitives.Subtract(1f, ar, tmp);
                    TensorPrimitives.Multiply(tmp, ar, tmp);
                    TensorPrimitives.Multiply(gr, tmp, gr);
                    break;
            }
            if (sumColumns) TensorPrimitives.Add(sum, gr, sum);
        }
        return sum;
    }
}
