namespace RaySharp.Nn;

/// <summary>One batch from a <see cref="DataLoader"/>: inputs [B, …], targets [B, …] and the samples' indices in the dataset.</summary>
/// <param name="Inputs">The samples' inputs stacked along a new first dimension.</param>
/// <param name="Targets">The samples' targets stacked along a new first dimension.</param>
/// <param name="Indices">Which dataset samples the rows are.</param>
public sealed record Batch(Tensor Inputs, Tensor Targets, int[] Indices)
{
    /// <summary>The targets as class indices (for <see cref="Loss.CrossEntropy"/>).</summary>
    /// <exception cref="InvalidOperationException">The targets are not one whole number per sample.</exception>
    public int[] Labels()
    {
        if (Targets.Rank != 1)
            throw new InvalidOperationException($"Labels() needs one target per sample; the targets have shape {Tensor.FormatShape(Targets.Shape)}.");
        var span = Targets.Span;
        var labels = new int[span.Length];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = (int)span[i];
            if (labels[i] != span[i])
                throw new InvalidOperationException($"Target {i} is {span[i]}, not a class index.");
        }
        return labels;
    }
}
