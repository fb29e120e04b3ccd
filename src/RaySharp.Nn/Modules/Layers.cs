namespace RaySharp.Nn;

/// <summary>
/// A 2-D convolution layer (<see cref="Tensor.Conv2d"/>) with PyTorch's initialisation: weight and
/// bias uniform in ±1/√(C·kH·kW). Input [N, C, H, W], output [N, O, H', W'].
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer with a square kernel.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or stride &lt; 1, or padding &lt; 0.</exception>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true, Rng? rng = null)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride < 1 || padding < 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"Conv2d needs positive channels and kernel, stride >= 1, padding >= 0; got in={inChannels}, out={outChannels}, kernel={kernelSize}, stride={stride}, padding={padding}.");
        rng ??= Rng.Global;
        Stride = stride;
        Padding = padding;
        var bound = 1f / MathF.Sqrt(inChannels * kernelSize * kernelSize);
        Weight = RegisterParameter("weight", Tensor.Uniform(rng, -bound, bound, outChannels, inChannels, kernelSize, kernelSize));
        Bias = bias ? RegisterParameter("bias", Tensor.Uniform(rng, -bound, bound, outChannels)) : null;
    }

    /// <summary>[O, C, k, k].</summary>
    public Tensor Weight { get; }

    /// <summary>[O], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Step between kernel positions.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on each border.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Tensor.Conv2d(input, Weight, Bias, Stride, Padding);
}

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

/// <summary>A lookup table of learnable vectors, initialised from N(0, 1) as in PyTorch.</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates a table of <paramref name="count"/> vectors of size <paramref name="dimension"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Embedding(int count, int dimension, Rng? rng = null)
    {
        if (count <= 0 || dimension <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), $"Embedding sizes must be positive, got count={count}, dimension={dimension}.");
        Weight = RegisterParameter("weight", Tensor.Randn(rng ?? Rng.Global, [count, dimension]));
    }

    /// <summary>The table, [count, dimension].</summary>
    public Tensor Weight { get; }

    /// <summary>The vectors of <paramref name="indices"/>, [indices.Length, dimension].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the table.</exception>
    public Tensor Forward(ReadOnlySpan<int> indices) => Weight.IndexSelect(indices);

    /// <summary>
    /// The vectors of a tensor of integer-valued indices of any shape [...]; the result is [..., dimension].
    /// </summary>
    /// <exception cref="ArgumentException">A value is not a whole number.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var values = input.Span;
        var idx = new int[values.Length];
        for (var i = 0; i < idx.Length; i++)
        {
            idx[i] = (int)values[i];
            if (idx[i] != values[i])
                throw new ArgumentException($"Embedding indices must be whole numbers; element {i} is {values[i]}.", nameof(input));
        }
        var shape = new int[input.Rank + 1];
        input.Shape.CopyTo(shape);
        shape[^1] = Weight.Size(1);
        return Forward(idx).Reshape(shape);
    }
}

/// <summary>Applies modules one after another; parameters are named by position (<c>0.weight</c>, …).</summary>
public sealed class Sequential : Module
{
    private readonly Module[] _modules;

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        _modules = modules;
        for (var i = 0; i < modules.Length; i++) RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), modules[i]);
    }

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<Module> Modules => _modules;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        foreach (var m in _modules) input = m.Forward(input);
        return input;
    }
}

/// <summary>A parameter-free module applying an <see cref="Nn.Activation"/> (for use in <see cref="Sequential"/>).</summary>
public sealed class ActivationLayer(Activation activation) : Module
{
    /// <summary>The activation applied.</summary>
    public Activation Activation { get; } = activation;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Apply(Activation);
    }
}
