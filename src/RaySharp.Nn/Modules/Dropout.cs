namespace RaySharp.Nn;

/// <summary>
/// Dropout (<see cref="Tensor.Dropout"/>): in training mode each element is zeroed with probability
/// <see cref="P"/> and the rest scaled by 1/(1 - p); in evaluation mode (<see cref="Module.Eval"/>) the
/// input passes unchanged.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Rng _rng;

    /// <summary>Creates the layer; masks are drawn from <paramref name="rng"/> (default a fork of <see cref="Rng.Global"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1] or NaN.</exception>
    public Dropout(float p = 0.5f, Rng? rng = null)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability must be in [0, 1].");
        P = p;
        _rng = rng ?? Rng.Global.Fork();
    }

    /// <summary>The probability of zeroing an element.</summary>
    public float P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return IsTraining ? input.Dropout(P, _rng) : input;
    }
}
