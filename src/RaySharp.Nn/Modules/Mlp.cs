namespace RaySharp.Nn;

/// <summary>
/// A multilayer perceptron: Linear layers of the given hidden sizes with <see cref="Activation"/>
/// between them, then a Linear output layer and an optional output activation. Parameters are named
/// <c>layers.{i}.weight</c> and <c>layers.{i}.bias</c>.
/// </summary>
public sealed class Mlp : Module
{
    private readonly Linear[] _layers;

    /// <summary>Creates the network; parameters are drawn from <paramref name="rng"/> (default <see cref="Rng.Global"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Mlp(int inputSize, IReadOnlyList<int> hiddenSizes, int outputSize,
        Activation activation = Activation.ReLU, Activation outputActivation = Activation.Identity, Rng? rng = null)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        rng ??= Rng.Global;
        var sizes = new List<int> { inputSize };
        sizes.AddRange(hiddenSizes);
        sizes.Add(outputSize);
        if (sizes.Any(s => s <= 0))
            throw new ArgumentOutOfRangeException(nameof(hiddenSizes), $"Mlp sizes must be positive, got {Tensor.FormatShape(sizes.ToArray())}.");
        _layers = new Linear[sizes.Count - 1];
        for (var i = 0; i < _layers.Length; i++)
            _layers[i] = RegisterModule($"layers.{i}", new Linear(sizes[i], sizes[i + 1], rng: rng));
        Activation = activation;
        OutputActivation = outputActivation;
        InputSize = inputSize;
        OutputSize = outputSize;
    }

    /// <summary>The activation between hidden layers.</summary>
    public Activation Activation { get; }

    /// <summary>The activation after the output layer (default none).</summary>
    public Activation OutputActivation { get; }

    /// <summary>Input size.</summary>
    public int InputSize { get; }

    /// <summary>Output size.</summary>
    public int OutputSize { get; }

    /// <summary>The Linear layers, input first.</summary>
    public IReadOnlyList<Linear> Layers => _layers;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (var i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var next = i < _layers.Length - 1
                ? Tensor.Linear(x, layer.Weight, layer.Bias, Activation, hidden: true)
                : Tensor.Linear(x, layer.Weight, layer.Bias, OutputActivation);
            // A hidden activation that no recorded operation refers to (inference, or no parameter
            // requires a gradient) is dead now; otherwise the graph frees it after Backward().
            if (next.Node is null) x.ReleaseHiddenStorage();
            x = next;
        }
        return x;
    }
}
