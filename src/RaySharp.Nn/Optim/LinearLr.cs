namespace RaySharp.Nn;

/// <summary>
/// Linear warm-up (PyTorch's <c>LinearLR</c>): lr = base·(s + (e - s)·min(t, T)/T), from
/// <see cref="StartFactor"/>·base to <see cref="EndFactor"/>·base over <see cref="TotalSteps"/> steps, then constant.
/// </summary>
public sealed class LinearLr : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A factor outside (0, 1] for the start or [0, 1] for the end, or totalSteps &lt; 1.</exception>
    public LinearLr(Optimizer optimizer, float startFactor = 1f / 3, float endFactor = 1f, int totalSteps = 5) : base(optimizer)
    {
        if (!(startFactor > 0 && startFactor <= 1) || !(endFactor >= 0 && endFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), $"LinearLr needs startFactor in (0, 1] and endFactor in [0, 1]; got {startFactor} and {endFactor}.");
        if (totalSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "LinearLr needs totalSteps >= 1.");
        (StartFactor, EndFactor, TotalSteps) = (startFactor, endFactor, totalSteps);
        Start();
    }

    /// <summary>Multiplier of the base rate at step 0.</summary>
    public float StartFactor { get; }

    /// <summary>Multiplier of the base rate from <see cref="TotalSteps"/> on.</summary>
    public float EndFactor { get; }

    /// <summary>Steps of the linear ramp.</summary>
    public int TotalSteps { get; }

    /// <inheritdoc/>
    public override float LearningRateAt(int step) =>
        (float)(BaseLearningRate * (StartFactor + (EndFactor - (double)StartFactor) * Math.Min(step, TotalSteps) / TotalSteps));
}
