namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>
    /// Inverted dropout (PyTorch's <c>dropout</c> in training): each element is zeroed with
    /// probability <paramref name="p"/>, independently, and the survivors are scaled by 1/(1 - p) so
    /// the expected value is unchanged; the gradient follows the same mask. p = 0 returns the input.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is outside [0, 1] or NaN.</exception>
    public Tensor Dropout(float p, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "The dropout probability must be in [0, 1].");
        if (p == 0) return this;
        var scale = p == 1 ? 0f : 1f / (1f - p);
        var mask = new float[Length];
        for (var i = 0; i < mask.Length; i++) mask[i] = rng.NextFloat() < p ? 0f : scale;
        return Mul(new Tensor(mask, (int[])_shape.Clone()));
    }
}
