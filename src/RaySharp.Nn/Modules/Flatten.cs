namespace RaySharp.Nn;

/// <summary>
/// Merges dimensions <see cref="StartDim"/> … <see cref="EndDim"/> into one (PyTorch's <c>Flatten</c>;
/// by default everything after the batch dimension: [N, C, H, W] → [N, C·H·W]). A view.
/// </summary>
public sealed class Flatten(int startDim = 1, int endDim = -1) : Module
{
    /// <summary>The first dimension merged.</summary>
    public int StartDim { get; } = startDim;

    /// <summary>The last dimension merged (negative counts from the end).</summary>
    public int EndDim { get; } = endDim;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Flatten(StartDim, EndDim);
    }
}
