namespace RaySharp.Nn;

/// <summary>1-D average pooling of [N, C, L] (<see cref="Tensor.AvgPool1d"/>, PyTorch's <c>avg_pool1d</c>); stride defaults to the kernel size.</summary>
/// <remarks>Creates the layer.</remarks>
/// <exception cref="ArgumentOutOfRangeException">kernel or stride &lt; 1, or padding outside [0, kernel/2].</exception>
public sealed class AvgPool1d(int kernelSize, int? stride = null, int padding = 0, bool countIncludePad = true) : Module
{
    /// <summary>Window size.</summary>
    public int KernelSize { get; } = kernelSize >= 1 ? kernelSize : throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "AvgPool1d needs kernelSize >= 1.");

    /// <summary>Step between windows.</summary>
    public int Stride { get; } = stride ?? kernelSize;

    /// <summary>Implicit zero padding on each border.</summary>
    public int Padding { get; } = padding;

    /// <summary>Whether the padding counts in each window's divisor (PyTorch's default).</summary>
    public bool CountIncludePad { get; } = countIncludePad;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.AvgPool1d(KernelSize, Stride, Padding, CountIncludePad);
    }
}
