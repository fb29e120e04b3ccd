namespace RaySharp.Nn;

/// <summary>
/// Batch normalisation over channels (<see cref="Tensor.BatchNorm"/>) with PyTorch's defaults: scale
/// ones, shift zeros, running mean zeros and running variance ones (buffers <c>running_mean</c> and
/// <c>running_var</c>, saved with the parameters). Training mode normalises with the batch's
/// statistics and updates the running ones; evaluation mode (<see cref="Module.Eval"/>) uses the running ones.
/// </summary>
public abstract class BatchNorm : Module
{
    private readonly int[] _ranks;
    private readonly string _layout;

    /// <summary>Creates the layer for <paramref name="features"/> channels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, ε is not positive or momentum is outside [0, 1].</exception>
    private protected BatchNorm(int features, float epsilon, float momentum, bool affine, int[] ranks, string layout)
    {
        if (features <= 0)
            throw new ArgumentOutOfRangeException(nameof(features), features, "BatchNorm needs a positive number of features.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "BatchNorm epsilon must be positive.");
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "BatchNorm momentum must be in [0, 1].");
        (Features, Epsilon, Momentum, _ranks, _layout) = (features, epsilon, momentum, ranks, layout);
        Weight = affine ? RegisterParameter("weight", Tensor.Ones(features)) : null;
        Bias = affine ? RegisterParameter("bias", Tensor.Zeros(features)) : null;
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(features));
        RunningVar = RegisterBuffer("running_var", Tensor.Ones(features));
    }

    /// <summary>Channels C.</summary>
    public int Features { get; }

    /// <summary>Added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>Weight of the batch statistics in each running-statistics update.</summary>
    public float Momentum { get; }

    /// <summary>Scale γ [C], or null without affine parameters.</summary>
    public Tensor? Weight { get; }

    /// <summary>Shift β [C], or null without affine parameters.</summary>
    public Tensor? Bias { get; }

    /// <summary>Running mean [C] (a buffer).</summary>
    public Tensor RunningMean { get; }

    /// <summary>Running unbiased variance [C] (a buffer).</summary>
    public Tensor RunningVar { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The input's layout or channel count is wrong for this layer.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Array.IndexOf(_ranks, input.Rank) < 0 || input.Size(1) != Features)
            throw new ArgumentException($"{GetType().Name}({Features}) needs input {_layout} with C = {Features}; got {Tensor.FormatShape(input.Shape)}.", nameof(input));
        return Tensor.BatchNorm(input, RunningMean, RunningVar, Weight, Bias, IsTraining, Momentum, Epsilon);
    }
}
