namespace RaySharp.Nn;

/// <summary>
/// A multi-layer gated recurrent unit network (PyTorch's <c>GRU</c>): per step, with gates in
/// PyTorch's order r, z, n,
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(…), n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)),
/// h' = (1 - z)⊙n + z⊙h. See <see cref="Recurrent"/> for parameters and layouts.
/// </summary>
/// <remarks>Creates the network; parameters are drawn from <paramref name="rng"/> (default <see cref="Rng.Global"/>).</remarks>
/// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
public sealed class Gru(int inputSize, int hiddenSize, int layers = 1, bool bias = true, bool batchFirst = false, Rng? rng = null)
    : Recurrent(inputSize, hiddenSize, layers, bias, batchFirst, 3, rng)
{
    /// <summary>
    /// Runs the sequence from initial state <paramref name="h0"/> ([layers, N, H], zeros when null);
    /// returns the last layer's hidden state at every step and the final state of every layer.
    /// </summary>
    /// <exception cref="ArgumentException">The input or the state has the wrong shape.</exception>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0)
    {
        var (output, h, _) = Run(input, h0, null);
        return (output, h);
    }

    private protected override bool HasCellState => false;

    private protected override (Tensor H, Tensor C) Cell(Tensor projected, Tensor h, Tensor c, Tensor whh, Tensor? bhh)
    {
        var hidden = Tensor.Linear(h, whh, bhh);
        var hs = HiddenSize;
        var r = (projected.Narrow(1, 0, hs) + hidden.Narrow(1, 0, hs)).Sigmoid();
        var z = (projected.Narrow(1, hs, hs) + hidden.Narrow(1, hs, hs)).Sigmoid();
        var n = (projected.Narrow(1, 2 * hs, hs) + r * hidden.Narrow(1, 2 * hs, hs)).Tanh();
        return (n + z * (h - n), c);
    }
}
