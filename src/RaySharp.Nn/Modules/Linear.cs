namespace RaySharp.Nn;

/// <summary>
/// y = x·Wᵀ + b, with PyTorch's layout (weight [out, in]) and initialisation (weight and bias
/// uniform in ±1/√in).
/// </summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer; parameters are drawn from <paramref name="rng"/> (default <see cref="Rng.Global"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Rng? rng = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear sizes must be positive, got in={inFeatures}, out={outFeatures}.");
        rng ??= Rng.Global;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var bound = 1f / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Tensor.Uniform(rng, -bound, bound, outFeatures, inFeatures));
        Bias = bias ? RegisterParameter("bias", Tensor.Uniform(rng, -bound, bound, outFeatures)) : null;
    }

    /// <summary>Input size.</summary>
    public int InFeatures { get; }

    /// <summary>Output size.</summary>
    public int OutFeatures { get; }

    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }

    /// <summary>[out], or null when created without bias.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Linear(input, Weight, Bias);
}
