using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
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

    /// <summary>
    /// Batch normalisation over the channel dimension (PyTorch's <c>batch_norm</c>): input [N, C],
    /// [N, C, L] or [N, C, H, W], statistics per channel over every other dimension. In training
    /// (<paramref name="training"/> true) the batch mean and biased variance normalise the input and
    /// the running statistics move towards the batch's (the unbiased variance, as PyTorch):
    /// running ← (1 - momentum)·running + momentum·batch; otherwise the running statistics normalise it.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A rank outside 2–4, a statistic or affine parameter that is not [C], or a training batch with
    /// one value per channel.
    /// </exception>
    public static Tensor BatchNorm(Tensor input, Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias,
        bool training, float momentum = 0.1f, float epsilon = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        if (input.Rank is < 2 or > 4)
            throw new ArgumentException($"BatchNorm needs input [N, C], [N, C, L] or [N, C, H, W]; got {FormatShape(input._shape)}.", nameof(input));
        var c = input._shape[1];
        foreach (var (p, name) in new[] { (runningMean, "running mean"), (runningVar, "running variance"), (weight, "weight"), (bias, "bias") })
            if (p is not null && (p.Rank != 1 || p._shape[0] != c))
                throw new ArgumentException($"BatchNorm {name} must be [{c}] for input {FormatShape(input._shape)}; got {FormatShape(p._shape)}.", nameof(input));
        int n = input._shape[0], inner = c == 0 || n == 0 ? 0 : input.Length / (n * c), count = n * inner;
        if (training && count <= 1)
            throw new ArgumentException($"BatchNorm in training mode needs more than one value per channel; input {FormatShape(input._shape)} has {count}. Use a larger batch, or Eval() mode.", nameof(input));
        var mean = new float[c];
        var invStd = new float[c];
        var x = input.Span;
        for (var ch = 0; ch < c; ch++)
        {
            if (!training)
            {
                mean[ch] = runningMean.Span[ch];
                invStd[ch] = 1f / MathF.Sqrt(runningVar.Span[ch] + epsilon);
                continue;
            }
            double sum = 0, sq = 0;
            for (var b = 0; b < n; b++) sum += TensorPrimitives.Sum(x.Slice((b * c + ch) * inner, inner));
            var mu = (float)(sum / count);
            for (var b = 0; b < n; b++)
            {
                var seg = x.Slice((b * c + ch) * inner, inner);
                for (var i = 0; i < seg.Length; i++) sq += (seg[i] - mu) * (double)(seg[i] - mu);
            }
            var variance = (float)(sq / count);
            mean[ch] = mu;
            invStd[ch] = 1f / MathF.Sqrt(variance + epsilon);
            runningMean.Span[ch] = (1 - momentum) * runningMean.Span[ch] + momentum * mu;
            runningVar.Span[ch] = (1 - momentum) * runningVar.Span[ch] + momentum * (float)(sq / (count - 1));
        }
        var output = new Tensor(new float[input.Length], (int[])input._shape.Clone());
        var y = output.Span;
        for (var b = 0; b < n; b++)
            for (var ch = 0; ch < c; ch++)
            {
                var scale = invStd[ch] * (weight?.Span[ch] ?? 1f);
                var shift = (bias?.Span[ch] ?? 0f) - mean[ch] * scale;
                var at = (b * c + ch) * inner;
                var dst = y.Slice(at, inner);
                TensorPrimitives.Multiply(x.Slice(at, inner), scale, dst);
                TensorPrimitives.Add(dst, shift, dst);
            }
        var tracks = IsGradEnabled && (input.RequiresGrad || (weight?.RequiresGrad ?? false) || (bias?.RequiresGrad ?? false));
        if (!tracks) return output;
        var inputs = new List<Tensor> { input };
        if (weight is not null) inputs.Add(weight);
        if (bias is not null) inputs.Add(bias);
        return Record(output, inputs.ToArray(), r =>
        {
            var g = r.Grad!.Span;
            var xs = input.Span;
            for (var ch = 0; ch < c; ch++)
            {
                // Σ g and Σ g·x̂ over the channel; x̂ = (x - mean)·invStd.
                double sg = 0, sgx = 0;
                for (var b = 0; b < n; b++)
                {
                    var at = (b * c + ch) * inner;
                    var gs = g.Slice(at, inner);
                    sg += TensorPrimitives.Sum(gs);
                    sgx += (TensorPrimitives.Dot(gs, xs.Slice(at, inner)) - mean[ch] * TensorPrimitives.Sum(gs)) * invStd[ch];
                }
                if (weight is not null && weight.RequiresGrad) weight.GradSpan()[ch] += (float)sgx;
                if (bias is not null && bias.RequiresGrad) bias.GradSpan()[ch] += (float)sg;
                if (!input.RequiresGrad) continue;
                var gamma = weight?.Span[ch] ?? 1f;
                var dx = input.GradSpan();
                // training: dx = γ·invStd·(g - mean(g) - x̂·mean(g·x̂)); eval: dx = γ·invStd·g.
                float k = gamma * invStd[ch], mg = training ? (float)(sg / count) : 0f, mgx = training ? (float)(sgx / count) : 0f;
                for (var b = 0; b < n; b++)
                {
                    var at = (b * c + ch) * inner;
                    for (var i = 0; i < inner; i++)
                    {
                        var xhat = (xs[at + i] - mean[ch]) * invStd[ch];
                        dx[at + i] += k * (g[at + i] - mg - xhat * mgx);
                    }
                }
            }
        });
    }
}
