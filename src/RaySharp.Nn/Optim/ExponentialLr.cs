namespace RaySharp.Nn;

/// <summary>lr = base·γ^t (PyTorch's <c>ExponentialLR</c>).</summary>
public sealed class ExponentialLr : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">γ not in (0, 1].</exception>
    public ExponentialLr(Optimizer optimizer, float gamma) : base(optimizer)
    {
        if (!(gamma > 0 && gamma <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "ExponentialLr needs gamma in (0, 1].");
        Gamma = gamma;
        Start();
    }

    /// <summary>Decay factor per step.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    public override float LearningRateAt(int step) => (float)(BaseLearningRate * Math.Pow(Gamma, step));
}
