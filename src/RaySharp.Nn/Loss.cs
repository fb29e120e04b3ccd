using System.Numerics.Tensors;

namespace RaySharp.Nn;

/// <summary>Loss functions, each averaged over all elements (PyTorch's <c>reduction='mean'</c>).</summary>
public static class Loss
{
    /// <summary>Mean squared error between <paramref name="prediction"/> and <paramref name="target"/> (same shape).</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor Mse(Tensor prediction, Tensor target)
    {
        CheckSame(prediction, target, "Mse");
        var diff = new float[prediction.Length];
        TensorPrimitives.Subtract(prediction.Span, target.Span, diff);
        var n = Math.Max(diff.Length, 1);
        var o = Tensor.Scalar(TensorPrimitives.SumOfSquares(diff) / n);
        if (!Tensor.Tracks(prediction, target)) return o;
        return Tensor.Record(o, [prediction, target], r =>
        {
            var scale = 2f * r.Grad!.Span[0] / n;
            if (prediction.RequiresGrad) TensorPrimitives.MultiplyAdd(diff, scale, prediction.GradSpan(), prediction.GradSpan());
            if (target.RequiresGrad) TensorPrimitives.MultiplyAdd(diff, -scale, target.GradSpan(), target.GradSpan());
        });
    }

    /// <summary>
    /// Huber loss (PyTorch's <c>HuberLoss</c>): ½d² where |d| ≤ <paramref name="delta"/>, else
    /// <paramref name="delta"/>·(|d| - ½<paramref name="delta"/>), with d = prediction - target.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ or <paramref name="delta"/> is not positive.</exception>
    public static Tensor Huber(Tensor prediction, Tensor target, float delta = 1f)
    {
        CheckSame(prediction, target, "Huber");
        if (!(delta > 0))
            throw new ArgumentException($"Huber delta must be positive, got {delta}.", nameof(delta));
        var p = prediction.Span;
        var t = target.Span;
        var grad = new float[p.Length];
        var sum = 0.0;
        for (var i = 0; i < p.Length; i++)
        {
            var d = p[i] - t[i];
            var a = MathF.Abs(d);
            if (a <= delta)
            {
                sum += 0.5 * d * d;
                grad[i] = d;
            }
            else
            {
                sum += delta * (a - 0.5 * delta);
                grad[i] = d > 0 ? delta : -delta;
            }
        }
        var n = Math.Max(p.Length, 1);
        var o = Tensor.Scalar((float)(sum / n));
        if (!Tensor.Tracks(prediction, target)) return o;
        return Tensor.Record(o, [prediction, target], r =>
        {
            var scale = r.Grad!.Span[0] / n;
            if (prediction.RequiresGrad) TensorPrimitives.MultiplyAdd(grad, scale, prediction.GradSpan(), prediction.GradSpan());
            if (target.RequiresGrad) TensorPrimitives.MultiplyAdd(grad, -scale, target.GradSpan(), target.GradSpan());
        });
    }

    /// <summary>
    /// Cross-entropy of [N, C] <paramref name="logits"/> against class <paramref name="labels"/> (N of
    /// them, each in [0, C)), through a stable log-softmax; the mean over the batch.
    /// </summary>
    /// <exception cref="ArgumentException">The logits are not [N, C], the label count differs from N, or a label is out of range.</exception>
    public static Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 2 || logits.Size(0) != labels.Length)
            throw new ArgumentException($"CrossEntropy needs [N, C] logits and N labels; got logits {Tensor.FormatShape(logits.Shape)} and {labels.Length} labels.", nameof(labels));
        var (rows, cols) = (logits.Size(0), logits.Size(1));
        var x = logits.Span;
        var probs = new float[x.Length];
        var lbl = labels.ToArray();
        var total = 0.0;
        for (var i = 0; i < rows; i++)
        {
            if ((uint)lbl[i] >= (uint)cols)
                throw new ArgumentException($"CrossEntropy label {lbl[i]} at row {i} is out of range for {cols} classes.", nameof(labels));
            var row = x.Slice(i * cols, cols);
            var lse = Tensor.LogSumExp(row);
            total += lse - row[lbl[i]];
            var pr = probs.AsSpan(i * cols, cols);
            TensorPrimitives.Subtract(row, lse, pr);
            TensorPrimitives.Exp(pr, pr);
        }
        var n = Math.Max(rows, 1);
        var o = Tensor.Scalar((float)(total / n));
        if (!Tensor.Tracks(logits)) return o;
        return Tensor.Record(o, [logits], r =>
        {
            // d/dlogits = (softmax - onehot) / N
            for (var i = 0; i < rows; i++) probs[i * cols + lbl[i]] -= 1f;
            TensorPrimitives.MultiplyAdd(probs, r.Grad!.Span[0] / n, logits.GradSpan(), logits.GradSpan());
            for (var i = 0; i < rows; i++) probs[i * cols + lbl[i]] += 1f;
        });
    }

    private static void CheckSame(Tensor a, Tensor b, string op)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!Tensor.SameShape(a.Shape, b.Shape))
            throw new ArgumentException($"{op} needs prediction and target of the same shape; got {Tensor.FormatShape(a.Shape)} and {Tensor.FormatShape(b.Shape)}.");
    }
}
