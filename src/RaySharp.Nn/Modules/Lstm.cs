namespace RaySharp.Nn;

/// <summary>
/// A multi-layer long short-term memory network (PyTorch's <c>LSTM</c>): per step, with gates in
/// PyTorch's order i, f, g, o,
/// i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(…), g = tanh(…), o = σ(…), c' = f⊙c + i⊙g, h' = o⊙tanh(c').
/// See <see cref="Recurrent"/> for parameters and layouts.
/// </summary>
/// <remarks>Creates the network; parameters are drawn from <paramref name="rng"/> (default <see cref="Rng.Global"/>).</remarks>
/// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
public sealed class Lstm(int inputSize, int hiddenSize, int layers = 1, bool bias = true, bool batchFirst = false, Rng? rng = null)
    : Recurrent(inputSize, hiddenSize, layers, bias, batchFirst, 4, rng)
{
    /// <summary>
    /// Runs the sequence from initial states <paramref name="h0"/> and <paramref name="c0"/> ([layers, N, H],
    /// zeros when null); returns the last layer's hidden state at every step and the final states of every layer.
    /// </summary>
    /// <exception cref="ArgumentException">The input or a state has the wrong shape.</exception>
    public (Tensor Output, Tensor H, Tensor C) Forward(Tensor input, Tensor? h0, Tensor? c0)
    {
        var (output, h, c) = Run(input, h0, c0);
        return (output, h, c!);
    }

    private protected override bool HasCellState => true;

    private protected override (Tensor H, Tensor C) Cell(Tensor projected, Tensor h, Tensor c, Tensor whh, Tensor? bhh)
    {
        var gates = projected + Tensor.Linear(h, whh, bhh);
        var hs = HiddenSize;
        var i = gates.Narrow(1, 0, hs).Sigmoid();
        var f = gates.Narrow(1, hs, hs).Sigmoid();
        var g = gates.Narrow(1, 2 * hs, hs).Tanh();
        var o = gates.Narrow(1, 3 * hs, hs).Sigmoid();
        var next = f * c + i * g;
        return (o * next.Tanh(), next);
    }
}
