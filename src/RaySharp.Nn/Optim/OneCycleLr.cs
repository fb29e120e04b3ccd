namespace RaySharp.Nn;

/// <summary>
/// The one-cycle policy (PyTorch's <c>OneCycleLR</c> with cosine annealing, two phases): from
/// max/<see cref="DivFactor"/> up to <see cref="MaxLearningRate"/> over the first
/// <see cref="PctStart"/> of <see cref="TotalSteps"/>, then down to that initial rate divided by
/// <see cref="FinalDivFactor"/> at the last step. The optimiser's own rate is ignored. Momentum is
/// not cycled.
/// </summary>
public sealed class OneCycleLr : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A rate or factor that is not positive, or pctStart outside (0, 1) or leaving a phase of one step or less.</exception>
    public OneCycleLr(Optimizer optimizer, float maxLearningRate, int totalSteps, float pctStart = 0.3f, float divFactor = 25f, float finalDivFactor = 1e4f)
        : base(optimizer)
    {
        if (!(maxLearningRate > 0) || !(divFactor > 0) || !(finalDivFactor > 0))
            throw new ArgumentOutOfRangeException(nameof(maxLearningRate), $"OneCycleLr needs a positive max rate and factors; got {maxLearningRate}, {divFactor}, {finalDivFactor}.");
        if (!(pctStart > 0 && pctStart < 1) || pctStart * totalSteps <= 1 || totalSteps - pctStart * totalSteps <= 0)
            throw new ArgumentOutOfRangeException(nameof(totalSteps), $"OneCycleLr needs pctStart in (0, 1) with more than one step in each phase; got totalSteps {totalSteps}, pctStart {pctStart}.");
        (MaxLearningRate, TotalSteps, PctStart, DivFactor, FinalDivFactor) = (maxLearningRate, totalSteps, pctStart, divFactor, finalDivFactor);
        Start();
    }

    /// <summary>The peak rate.</summary>
    public float MaxLearningRate { get; }

    /// <summary>Steps in the cycle; stepping past the last throws.</summary>
    public int TotalSteps { get; }

    /// <summary>The fraction of the cycle spent increasing the rate.</summary>
    public float PctStart { get; }

    /// <summary>initial rate = max / divFactor.</summary>
    public float DivFactor { get; }

    /// <summary>final rate = initial / finalDivFactor.</summary>
    public float FinalDivFactor { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The step is past <see cref="TotalSteps"/>.</exception>
    public override float LearningRateAt(int step)
    {
        if (step > TotalSteps)
            throw new ArgumentOutOfRangeException(nameof(step), $"OneCycleLr was stepped {step} times, more than its totalSteps ({TotalSteps}).");
        double initial = MaxLearningRate / (double)DivFactor, min = initial / FinalDivFactor;
        double upEnd = PctStart * (double)TotalSteps - 1, end = TotalSteps - 1;
        return step <= upEnd
            ? (float)Anneal(initial, MaxLearningRate, step / upEnd)
            : (float)Anneal(MaxLearningRate, min, (step - upEnd) / (end - upEnd));
    }

    private static double Anneal(double start, double end, double pct) => end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1);
}
