namespace RaySharp.Nn;

/// <summary>
/// lr = η_min + (base - η_min)·(1 + cos(π·t / T))/2 (PyTorch's <c>CosineAnnealingLR</c>, closed form):
/// from the base rate at t = 0 down to η_min at t = T.
/// </summary>
public sealed class CosineAnnealingLr : LrSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <exception cref="ArgumentOutOfRangeException">T &lt; 1 or η_min negative or NaN.</exception>
    public CosineAnnealingLr(Optimizer optimizer, int tMax, float etaMin = 0f) : base(optimizer)
    {
        if (tMax < 1)
            throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "CosineAnnealingLr needs tMax >= 1.");
        if (!(etaMin >= 0))
            throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, "CosineAnnealingLr needs etaMin >= 0.");
        (TMax, EtaMin) = (tMax, etaMin);
        Start();
    }

    /// <summary>Steps of the half cosine.</summary>
    public int TMax { get; }

    /// <summary>The final learning rate.</summary>
    public float EtaMin { get; }

    /// <inheritdoc/>
    public override float LearningRateAt(int step) =>
        (float)(EtaMin + (BaseLearningRate - EtaMin) * (1 + Math.Cos(Math.PI * step / TMax)) / 2);
}
