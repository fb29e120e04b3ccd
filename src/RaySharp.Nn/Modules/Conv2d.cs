namespace RaySharp.Nn;

/// <summary>
/// A 2-D convolution layer (<see cref="Tensor.Conv2d"/>) with a square kernel and PyTorch's
/// initialisation: weight and bias uniform in ±1/√(C/groups·k²). Input [N, C, H, W], output [N, O, H', W'].
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// A size is not positive, stride or dilation &lt; 1, padding &lt; 0, or groups does not divide both channel counts.
    /// </exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1,
        int groups = 1, bool bias = true, Rng? rng = null)
    {
        ConvChecks.Validate("Conv2d", inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        rng ??= Rng.Global;
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        var bound = 1f / MathF.Sqrt(inChannels / groups * kernelSize * kernelSize);
        Weight = RegisterParameter("weight", Tensor.Uniform(rng, -bound, bound, outChannels, inChannels / groups, kernelSize, kernelSize));
        Bias = bias ? RegisterParameter("bias", Tensor.Uniform(rng, -bound, bound, outChannels)) : null;
    }

    /// <summary>Input channels C.</summary>
    public int InChannels { get; }

    /// <summary>Output channels O.</summary>
    public int OutChannels { get; }

    /// <summary>Kernel height and width k.</summary>
    public int KernelSize { get; }

    /// <summary>[O, C/groups, k, k].</summary>
    public Tensor Weight { get; }

    /// <summary>[O], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Step between kernel positions.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each border.</summary>
    public int Padding { get; }

    /// <summary>Spacing between kernel taps.</summary>
    public int Dilation { get; }

    /// <summary>Channel groups: group g's outputs see only group g's inputs.</summary>
    public int Groups { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);
}
