namespace RaySharp.Nn;

/// <summary>Adaptive average pooling of [N, C, H, W] to a fixed [N, C, outH, outW] (<see cref="Tensor.AdaptiveAvgPool2d"/>).</summary>
/// <remarks>Creates the layer.</remarks>
/// <exception cref="ArgumentOutOfRangeException">An output size is not positive.</exception>
public sealed class AdaptiveAvgPool2d(int outputHeight, int outputWidth) : Module
{
    /// <summary>Output height.</summary>
    public int OutputHeight { get; } = outputHeight >= 1 ? outputHeight : throw new ArgumentOutOfRangeException(nameof(outputHeight), outputHeight, "AdaptiveAvgPool2d needs a positive output height.");

    /// <summary>Output width.</summary>
    public int OutputWidth { get; } = outputWidth >= 1 ? outputWidth : throw new ArgumentOutOfRangeException(nameof(outputWidth), outputWidth, "AdaptiveAvgPool2d needs a positive output width.");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.AdaptiveAvgPool2d(OutputHeight, OutputWidth);
    }
}
