namespace RaySharp.Nn;

/// <summary>
/// A collection of numbered samples, each an input tensor and a target tensor of fixed shapes
/// (PyTorch's map-style <c>Dataset</c>); <see cref="DataLoader"/> batches it.
/// </summary>
public abstract class Dataset
{
    /// <summary>The number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>The shape of one sample's input.</summary>
    public abstract ReadOnlySpan<int> InputShape { get; }

    /// <summary>The shape of one sample's target (empty for a class index or scalar).</summary>
    public abstract ReadOnlySpan<int> TargetShape { get; }

    /// <summary>
    /// Copies sample <paramref name="index"/> into <paramref name="input"/> and <paramref name="target"/>
    /// (spans of the input and target sizes). May be called from a background thread.
    /// </summary>
    public abstract void Fill(int index, Span<float> input, Span<float> target);
}
