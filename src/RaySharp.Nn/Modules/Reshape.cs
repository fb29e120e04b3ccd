namespace RaySharp.Nn;

/// <summary>
/// Reshapes each sample, keeping the batch dimension: [N, …] → [N, shape…] (PyTorch's
/// <c>Unflatten(1, shape)</c> after a flat layer, or any per-sample view). A view; one entry of
/// the shape may be -1.
/// </summary>
public sealed class Reshape : Module
{
    private readonly int[] _shape;

    /// <summary>Creates the layer for per-sample shape <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The shape is empty, has more than one -1, or another entry that is not positive.</exception>
    public Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length is 0 or >= Tensor.MaxRank || shape.Count(d => d == -1) > 1 || shape.Any(d => d == 0 || d < -1))
            throw new ArgumentException($"Reshape needs 1 to {Tensor.MaxRank - 1} positive sizes (one may be -1); got {Tensor.FormatShape(shape)}.", nameof(shape));
        _shape = (int[])shape.Clone();
    }

    /// <summary>The per-sample shape.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A sample does not hold the elements of the shape.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0)
            throw new ArgumentException("Reshape needs a batch dimension; got a scalar.", nameof(input));
        return input.Reshape([input.Size(0), .. _shape]);
    }
}
