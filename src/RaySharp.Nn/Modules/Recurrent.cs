namespace RaySharp.Nn;

/// <summary>
/// The shared shape of PyTorch's recurrent layers: <see cref="Layers"/> stacked layers, each with
/// parameters <c>weight_ih_l{k}</c> [G·H, in], <c>weight_hh_l{k}</c> [G·H, H], <c>bias_ih_l{k}</c>
/// and <c>bias_hh_l{k}</c> [G·H] (G gates, PyTorch's order and names, so state dictionaries
/// match), all initialised uniform in ±1/√H. Input [T, N, in], or [N, T, in] when
/// <see cref="BatchFirst"/>; states [layers, N, H].
/// </summary>
public abstract class Recurrent : Module
{
    private readonly Tensor[] _wih;
    private readonly Tensor[] _whh;
    private readonly Tensor[] _bih;
    private readonly Tensor[] _bhh;

    private protected Recurrent(int inputSize, int hiddenSize, int layers, bool bias, bool batchFirst, int gates, Rng? rng)
    {
        if (inputSize <= 0 || hiddenSize <= 0 || layers <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputSize), $"{GetType().Name} needs positive sizes; got input {inputSize}, hidden {hiddenSize}, layers {layers}.");
        rng ??= Rng.Global;
        (InputSize, HiddenSize, Layers, BatchFirst) = (inputSize, hiddenSize, layers, batchFirst);
        var bound = 1f / MathF.Sqrt(hiddenSize);
        (_wih, _whh, _bih, _bhh) = (new Tensor[layers], new Tensor[layers], new Tensor[layers], new Tensor[layers]);
        for (var l = 0; l < layers; l++)
        {
            var inSize = l == 0 ? inputSize : hiddenSize;
            _wih[l] = RegisterParameter($"weight_ih_l{l}", Tensor.Uniform(rng, -bound, bound, gates * hiddenSize, inSize));
            _whh[l] = RegisterParameter($"weight_hh_l{l}", Tensor.Uniform(rng, -bound, bound, gates * hiddenSize, hiddenSize));
            if (!bias) continue;
            _bih[l] = RegisterParameter($"bias_ih_l{l}", Tensor.Uniform(rng, -bound, bound, gates * hiddenSize));
            _bhh[l] = RegisterParameter($"bias_hh_l{l}", Tensor.Uniform(rng, -bound, bound, gates * hiddenSize));
        }
    }

    /// <summary>Features of each input step.</summary>
    public int InputSize { get; }

    /// <summary>Features of the hidden state H.</summary>
    public int HiddenSize { get; }

    /// <summary>Stacked layers; layer k &gt; 0 reads layer k-1's outputs.</summary>
    public int Layers { get; }

    /// <summary>Whether inputs and outputs are [N, T, ·] rather than [T, N, ·].</summary>
    public bool BatchFirst { get; }

    /// <summary>Input-to-hidden weights of layer <paramref name="layer"/>, [G·H, in].</summary>
    public Tensor WeightIH(int layer) => _wih[layer];

    /// <summary>Hidden-to-hidden weights of layer <paramref name="layer"/>, [G·H, H].</summary>
    public Tensor WeightHH(int layer) => _whh[layer];

    /// <summary>Input-to-hidden bias of layer <paramref name="layer"/> (null without bias).</summary>
    public Tensor? BiasIH(int layer) => _bih[layer];

    /// <summary>Hidden-to-hidden bias of layer <paramref name="layer"/> (null without bias).</summary>
    public Tensor? BiasHH(int layer) => _bhh[layer];

    /// <summary>The output sequence (the last layer's hidden state at every step) for zero initial states.</summary>
    public override Tensor Forward(Tensor input) => Run(input, null, null).Output;

    /// <summary>Checks the input and states; returns the input as [T, N, in].</summary>
    private protected Tensor TimeMajor(Tensor input, Tensor? h0, Tensor? c0)
    {
        ArgumentNullException.ThrowIfNull(input);
        var layout = BatchFirst ? "[N, T, in]" : "[T, N, in]";
        if (input.Rank != 3 || input.Size(2) != InputSize)
            throw new ArgumentException($"{GetType().Name} needs input {layout} with in = {InputSize}; got {Tensor.FormatShape(input.Shape)}.", nameof(input));
        var batch = input.Size(BatchFirst ? 0 : 1);
        foreach (var (state, name) in new[] { (h0, "h0"), (c0, "c0") })
            if (state is not null && (state.Rank != 3 || state.Size(0) != Layers || state.Size(1) != batch || state.Size(2) != HiddenSize))
                throw new ArgumentException($"{GetType().Name} {name} must be [layers, N, H] = [{Layers}, {batch}, {HiddenSize}]; got {Tensor.FormatShape(state.Shape)}.", name);
        return BatchFirst ? input.Transpose(0, 1) : input;
    }

    /// <summary>Runs every layer over the sequence; c0 and the returned C are null for cells without a cell state.</summary>
    private protected (Tensor Output, Tensor H, Tensor? C) Run(Tensor input, Tensor? h0, Tensor? c0)
    {
        var x = TimeMajor(input, h0, c0);
        int steps = x.Size(0), batch = x.Size(1);
        var hs = new Tensor[Layers];
        var cs = new Tensor[Layers];
        for (var l = 0; l < Layers; l++)
        {
            // One product projects every step's input at once; only h·W_hhᵀ is left per step.
            var projected = Tensor.Linear(x, _wih[l], _bih[l]);
            var h = h0?.Select(l) ?? Tensor.Zeros(batch, HiddenSize);
            var c = c0?.Select(l) ?? Tensor.Zeros(batch, HiddenSize);
            var outputs = new Tensor[steps];
            for (var t = 0; t < steps; t++)
            {
                (h, c) = Cell(projected.Select(t), h, c, _whh[l], _bhh[l]);
                outputs[t] = h.Reshape(1, batch, HiddenSize);
            }
            x = steps == 0 ? Tensor.Zeros(0, batch, HiddenSize) : Tensor.Concat(outputs, 0);
            (hs[l], cs[l]) = (h.Reshape(1, batch, HiddenSize), c.Reshape(1, batch, HiddenSize));
        }
        var output = BatchFirst ? x.Transpose(0, 1) : x;
        return (output, Tensor.Concat(hs, 0), HasCellState ? Tensor.Concat(cs, 0) : null);
    }

    /// <summary>Whether the cell carries a cell state besides the hidden state (LSTM).</summary>
    private protected abstract bool HasCellState { get; }

    /// <summary>
    /// One step of one layer: <paramref name="projected"/> is x·W_ihᵀ + b_ih [N, G·H]; returns the new
    /// hidden state and cell state (the cell state passes through unchanged for cells without one).
    /// </summary>
    private protected abstract (Tensor H, Tensor C) Cell(Tensor projected, Tensor h, Tensor c, Tensor whh, Tensor? bhh);
}
