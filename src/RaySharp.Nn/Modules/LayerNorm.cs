namespace RaySharp.Nn;

/// <summary>Layer normalisation over the last dimension with learnable scale (ones) and shift (zeros).</summary>
public sealed class LayerNorm : Module
{
    /// <summary>Creates the layer for inputs whose last dimension is <paramref name="size"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is not positive or ε is not positive.</exception>
    public LayerNorm(int size, float epsilon = 1e-5f)
    {
        if (size <= 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "LayerNorm size must be positive.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "LayerNorm epsilon must be positive.");
        Epsilon = epsilon;
        Weight = RegisterParameter("weight", Tensor.Ones(size));
        Bias = RegisterParameter("bias", Tensor.Zeros(size));
    }

    /// <summary>Scale γ, [size].</summary>
    public Tensor Weight { get; }

    /// <summary>Shift β, [size].</summary>
    public Tensor Bias { get; }

    /// <summary>Added to the variance.</summary>
    public float Epsilon { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.LayerNorm(input, Weight, Bias, Epsilon);
}
