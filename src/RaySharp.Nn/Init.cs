namespace RaySharp.Nn;

/// <summary>
/// Weight initialisation schemes as PyTorch's <c>nn.init</c>, written in place. Fans follow PyTorch:
/// for a weight [out, in, k…], fan-in = in·∏k and fan-out = out·∏k. The layers already use PyTorch's
/// defaults (Linear and Conv: <see cref="KaimingUniform"/> with a = √5, i.e. uniform ±1/√fan-in, and
/// bias uniform ±1/√fan-in); these re-initialise parameters differently.
/// </summary>
public static class Init
{
    /// <summary>(fan-in, fan-out) of a weight of rank 2 or more.</summary>
    /// <exception cref="ArgumentException">The tensor has rank below 2.</exception>
    public static (int FanIn, int FanOut) Fans(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank < 2)
            throw new ArgumentException($"Fan-in and fan-out need a weight of rank 2 or more; got shape {Tensor.FormatShape(weight.Shape)}.", nameof(weight));
        var receptive = 1;
        for (var i = 2; i < weight.Rank; i++) receptive *= weight.Size(i);
        return (weight.Size(1) * receptive, weight.Size(0) * receptive);
    }

    /// <summary>Uniform in ±gain·√(3/fan-in), gain = √(2/(1 + a²)) (He et al.; a is the leaky-ReLU slope).</summary>
    public static void KaimingUniform(Tensor weight, Rng rng, float a = 0f)
    {
        var bound = MathF.Sqrt(2f / (1 + a * a)) * MathF.Sqrt(3f / Fans(weight).FanIn);
        Uniform(weight, rng, -bound, bound);
    }

    /// <summary>Normal with standard deviation gain/√fan-in, gain = √(2/(1 + a²)).</summary>
    public static void KaimingNormal(Tensor weight, Rng rng, float a = 0f) =>
        Normal(weight, rng, 0f, MathF.Sqrt(2f / (1 + a * a)) / MathF.Sqrt(Fans(weight).FanIn));

    /// <summary>Uniform in ±gain·√(6/(fan-in + fan-out)) (Glorot and Bengio).</summary>
    public static void XavierUniform(Tensor weight, Rng rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(weight);
        var bound = gain * MathF.Sqrt(6f / (fanIn + fanOut));
        Uniform(weight, rng, -bound, bound);
    }

    /// <summary>Normal with standard deviation gain·√(2/(fan-in + fan-out)).</summary>
    public static void XavierNormal(Tensor weight, Rng rng, float gain = 1f)
    {
        var (fanIn, fanOut) = Fans(weight);
        Normal(weight, rng, 0f, gain * MathF.Sqrt(2f / (fanIn + fanOut)));
    }

    /// <summary>Uniform in [low, high).</summary>
    public static void Uniform(Tensor tensor, Rng rng, float low, float high)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rng);
        var s = tensor.Span;
        for (var i = 0; i < s.Length; i++) s[i] = rng.Uniform(low, high);
    }

    /// <summary>Normal with the given mean and standard deviation.</summary>
    public static void Normal(Tensor tensor, Rng rng, float mean, float std)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(rng);
        var s = tensor.Span;
        for (var i = 0; i < s.Length; i++) s[i] = mean + std * (float)rng.NextNormal();
    }

    /// <summary>Every element set to <paramref name="value"/>.</summary>
    public static void Constant(Tensor tensor, float value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        tensor.Span.Fill(value);
    }
}
