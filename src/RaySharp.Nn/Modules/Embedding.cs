namespace RaySharp.Nn;

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
