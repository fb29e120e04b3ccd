namespace RaySharp.Nn;

/// <summary>2-D max pooling of [N, C, H, W] (<see cref="Tensor.MaxPool2d"/>, PyTorch's <c>max_pool2d</c>); stride defaults to the kernel size.</summary>
/// <remarks>Creates the layer.</remarks>
/// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
public sealed class MaxPool2d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>Window size.</summary>
    public int KernelSize { get; } = kernelSize >= 1 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "MaxPool2d needs kernelSize >= 1.");

    /// <summary>Step between windows.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit −∞ padding on each border.</summary>
    public int Padding { get; } = padding;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.MaxPool2d(KernelSize, Stride, Padding);
    }
}
