namespace RaySharp.Nn;

/// <summary>
/// A batch of categorical distributions over A actions, from [B, A] logits. Log-probabilities,
/// entropy and KL are differentiable with respect to the logits.
/// </summary>
public sealed class Categorical
{
    /// <summary>Creates the distributions.</summary>
    /// <exception cref="ArgumentException">The logits are not [B, A] with A ≥ 1.</exception>
    public Categorical(Tensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 2 || logits.Size(1) == 0)
            throw new ArgumentException($"Categorical needs [B, A] logits with A >= 1; got {Tensor.FormatShape(logits.Shape)}.", nameof(logits));
        Logits = logits;
        LogProbs = logits.LogSoftmax(-1);
    }

    /// <summary>The unnormalised log-probabilities, [B, A].</summary>
    public Tensor Logits { get; }

    /// <summary>Normalised log-probabilities, [B, A].</summary>
    public Tensor LogProbs { get; }

    /// <summary>Probabilities, [B, A].</summary>
    public Tensor Probs => LogProbs.Exp();

    /// <summary>One action per row, drawn from its distribution (not differentiable).</summary>
    public int[] Sample(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var (b, a) = (LogProbs.Size(0), LogProbs.Size(1));
        var lp = LogProbs.Span;
        var result = new int[b];
        for (var i = 0; i < b; i++)
        {
            var u = rng.NextDouble();
            var cum = 0.0;
            var pick = a - 1;
            for (var j = 0; j < a; j++)
            {
                cum += Math.Exp(lp[i * a + j]);
                if (u < cum)
                {
                    pick = j;
                    break;
                }
            }
            result[i] = pick;
        }
        return result;
    }

    /// <summary>The most likely action of each row.</summary>
    public int[] Mode() => Logits.ArgMax(-1);

    /// <summary>log p(action) for each row, [B].</summary>
    public Tensor LogProb(ReadOnlySpan<int> actions) => LogProbs.Gather(actions);

    /// <summary>Entropy -Σ p log p of each row, [B].</summary>
    public Tensor Entropy() => (Probs * LogProbs).Sum(-1).Neg();

    /// <summary>KL(this ‖ <paramref name="other"/>) = Σ p (log p - log q) of each row, [B].</summary>
    /// <exception cref="ArgumentException">The batches have different shapes.</exception>
    public Tensor Kl(Categorical other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Tensor.SameShape(Logits.Shape, other.Logits.Shape))
            throw new ArgumentException($"KL needs distributions of the same shape; got {Tensor.FormatShape(Logits.Shape)} and {Tensor.FormatShape(other.Logits.Shape)}.", nameof(other));
        return (Probs * (LogProbs - other.LogProbs)).Sum(-1);
    }
}

/// <summary>
/// A batch of diagonal Gaussians over D-dimensional actions: mean [B, D] and log standard deviation
/// [B, D] or [D] (a state-independent parameter). Sampling is reparameterised, so gradients flow
/// through samples into the mean and log-std.
/// </summary>
public sealed class DiagGaussian
{
    private static readonly float HalfLog2Pi = 0.5f * MathF.Log(2 * MathF.PI);

    /// <summary>Creates the distributions.</summary>
    /// <exception cref="ArgumentException">The mean is not [B, D] or the log-std is neither [B, D] nor [D].</exception>
    public DiagGaussian(Tensor mean, Tensor logStd)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(logStd);
        if (mean.Rank != 2 || !(Tensor.SameShape(logStd.Shape, mean.Shape) || (logStd.Rank == 1 && logStd.Size(0) == mean.Size(1))))
            throw new ArgumentException($"DiagGaussian needs mean [B, D] and log-std [B, D] or [D]; got mean {Tensor.FormatShape(mean.Shape)} and log-std {Tensor.FormatShape(logStd.Shape)}.", nameof(logStd));
        Mean = mean;
        LogStd = logStd;
    }

    /// <summary>Means, [B, D].</summary>
    public Tensor Mean { get; }

    /// <summary>Log standard deviations, [B, D] or [D].</summary>
    public Tensor LogStd { get; }

    /// <summary>Standard deviations (broadcast like <see cref="LogStd"/>).</summary>
    public Tensor Std => LogStd.Exp();

    /// <summary>A reparameterised sample mean + std·ε with ε ~ N(0, I), [B, D].</summary>
    public Tensor Sample(Rng rng)
    {
        var eps = Tensor.Randn(rng, Mean.ShapeArray());
        return Mean + Std * eps;
    }

    /// <summary>log p(x) summed over the D dimensions, [B].</summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not shaped like the mean.</exception>
    public Tensor LogProb(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!Tensor.SameShape(x.Shape, Mean.Shape))
            throw new ArgumentException($"LogProb needs values shaped like the mean {Tensor.FormatShape(Mean.Shape)}; got {Tensor.FormatShape(x.Shape)}.", nameof(x));
        var z = (x - Mean) / Std;
        return (z.Square() * -0.5f - LogStd - HalfLog2Pi).Sum(-1);
    }

    /// <summary>Entropy Σ (log σ + ½ log 2πe), [B].</summary>
    public Tensor Entropy() => (Tensor.Zeros(Mean.ShapeArray()) + LogStd + (0.5f + HalfLog2Pi)).Sum(-1);

    /// <summary>KL(this ‖ <paramref name="other"/>) = Σ [log(σ₂/σ₁) + (σ₁² + (μ₁-μ₂)²)/(2σ₂²) - ½], [B].</summary>
    /// <exception cref="ArgumentException">The means have different shapes.</exception>
    public Tensor Kl(DiagGaussian other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!Tensor.SameShape(Mean.Shape, other.Mean.Shape))
            throw new ArgumentException($"KL needs distributions of the same shape; got {Tensor.FormatShape(Mean.Shape)} and {Tensor.FormatShape(other.Mean.Shape)}.", nameof(other));
        var var1 = (LogStd * 2f).Exp();
        var var2 = (other.LogStd * 2f).Exp();
        return (other.LogStd - LogStd + (var1 + (Mean - other.Mean).Square()) / (var2 * 2f) - 0.5f).Sum(-1);
    }
}

/// <summary>
/// A diagonal Gaussian followed by tanh (SAC's policy): actions lie in (-1, 1). Log-probabilities
/// include the change-of-variables correction -Σ log(1 - tanh(u)²), computed stably as
/// -Σ 2(log 2 - u - softplus(-2u)). KL equals the underlying Gaussians' (KL is invariant under the
/// bijection); the entropy has no closed form, so none is offered — use -log p of samples.
/// </summary>
public sealed class SquashedGaussian
{
    private static readonly float Log2 = MathF.Log(2f);

    /// <summary>Creates the distributions (see <see cref="DiagGaussian"/> for the shapes).</summary>
    public SquashedGaussian(Tensor mean, Tensor logStd) => Base = new DiagGaussian(mean, logStd);

    /// <summary>The Gaussian before squashing.</summary>
    public DiagGaussian Base { get; }

    /// <summary>A reparameterised squashed sample and its log-probability ([B, D] and [B]).</summary>
    public (Tensor Action, Tensor LogProb) Sample(Rng rng)
    {
        var u = Base.Sample(rng);
        return (u.Tanh(), LogProbOfPreSquash(u));
    }

    /// <summary>tanh of the mean (the deterministic action).</summary>
    public Tensor Mode() => Base.Mean.Tanh();

    /// <summary>log p(action) for actions in (-1, 1) (clamped to ±(1 - 1e-6) before the inverse tanh), [B].</summary>
    public Tensor LogProb(Tensor action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var a = action.Clamp(-1f + 1e-6f, 1f - 1e-6f);
        var u = ((1f + a) / (1f - a)).Log() * 0.5f;
        return LogProbOfPreSquash(u);
    }

    /// <summary>KL between the underlying Gaussians, [B].</summary>
    public Tensor Kl(SquashedGaussian other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Base.Kl(other.Base);
    }

    private Tensor LogProbOfPreSquash(Tensor u)
    {
        var correction = ((Log2 - u) - (u * -2f).Softplus()) * 2f;
        return Base.LogProb(u) - correction.Sum(-1);
    }
}
