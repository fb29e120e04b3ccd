namespace RaySharp.Nn;

/// <summary>Adaptive average pooling of [N, C, L] to a fixed [N, C, outL] (<see cref="Tensor.AdaptiveAvgPool1d"/>).</summary>
/// <remarks>Creates the layer.</remarks>
/// <exception cref="ArgumentOutOfRangeException">The output size is not positive.</exception>
public sealed class AdaptiveAvgPool1d(int outputSize) : Module
{
    /// <summary>Output length.</summary>
    public int OutputSize { get; } = outputSize >= 1 ? outputSize : throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, "AdaptiveAvgPool1d needs a positive output size.");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.AdaptiveAvgPool1d(OutputSize);
    }
}
