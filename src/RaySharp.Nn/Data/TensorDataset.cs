namespace RaySharp.Nn;

/// <summary>Samples that are the rows of two tensors: inputs [M, …] and targets [M, …] (PyTorch's <c>TensorDataset</c>).</summary>
public sealed class TensorDataset : Dataset
{
    private readonly Tensor _inputs;
    private readonly Tensor _targets;
    private readonly int[] _inputShape;
    private readonly int[] _targetShape;

    /// <summary>Creates the dataset over the given tensors (not copied).</summary>
    /// <exception cref="ArgumentException">A tensor is a scalar, or their first dimensions differ.</exception>
    public TensorDataset(Tensor inputs, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (inputs.Rank == 0 || targets.Rank == 0 || inputs.Size(0) != targets.Size(0))
            throw new ArgumentException($"A TensorDataset needs inputs [M, …] and targets [M, …] with the same M; got {Tensor.FormatShape(inputs.Shape)} and {Tensor.FormatShape(targets.Shape)}.", nameof(targets));
        (_inputs, _targets) = (inputs, targets);
        _inputShape = inputs.Shape[1..].ToArray();
        _targetShape = targets.Shape[1..].ToArray();
    }

    /// <summary>All inputs, [M, …].</summary>
    public Tensor Inputs => _inputs;

    /// <summary>All targets, [M, …].</summary>
    public Tensor Targets => _targets;

    /// <inheritdoc/>
    public override int Count => _inputs.Size(0);

    /// <inheritdoc/>
    public override ReadOnlySpan<int> InputShape => _inputShape;

    /// <inheritdoc/>
    public override ReadOnlySpan<int> TargetShape => _targetShape;

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside the dataset.</exception>
    public override void Fill(int index, Span<float> input, Span<float> target)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The dataset has {Count} samples.");
        int ni = input.Length, nt = target.Length;
        _inputs.Span.Slice(index * ni, ni).CopyTo(input);
        _targets.Span.Slice(index * nt, nt).CopyTo(target);
    }
}
