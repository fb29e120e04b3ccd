namespace RaySharp.Nn;

/// <summary>lr = base·γ^⌊t / stepSize⌋ (PyTorch's <c>StepLR</c>).</summary>
public sealed class StepLr : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">stepSize &lt; 1 or γ not in (0, 1].</exception>
    public StepLr(Optimizer optimizer, int stepSize, float gamma = 0.1f) : base(optimizer)
    {
        if (stepSize < 1)
            throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "StepLr needs stepSize >= 1.");
        if (!(gamma > 0 && gamma <= 1))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "StepLr needs gamma in (0, 1].");
        (StepSize, Gamma) = (stepSize, gamma);
        Start();
    }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>Decay factor.</summary>
    public float Gamma { get; }

    /// <inheritdoc/>
    public override float LearningRateAt(int step) => (float)(BaseLearningRate * Math.Pow(Gamma, step / StepSize));
}
