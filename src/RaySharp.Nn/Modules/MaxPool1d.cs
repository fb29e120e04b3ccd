namespace RaySharp.Nn;

/// <summary>1-D max pooling of [N, C, L] (<see cref="Tensor.MaxPool1d"/>, PyTorch's <c>max_pool1d</c>); stride defaults to the kernel size.</summary>
/// <remarks>Creates the layer.</remarks>
/// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
public sealed class MaxPool1d(int kernelSize, int? stride = null, int padding = 0) : Module
{
    /// <summary>Window size.</summary>
    public int KernelSize { get; } = kernelSize >= 1 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "MaxPool1d needs kernelSize >= 1.");

    /// <summary>Step between windows.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit −∞ padding on each border.</summary>
    public int Padding { get; } = padding;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.MaxPool1d(KernelSize, Stride, Padding);
    }
}
