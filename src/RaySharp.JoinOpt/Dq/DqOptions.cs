namespace RaySharp.JoinOpt.Dq;

/// <summary>How DQ's Q-network is shaped and trained. Every default is the one the benchmark uses.</summary>
public sealed record DqOptions
{
    /// <summary>Hidden layer sizes of the MLP (ReLU between layers). Default [128, 64].</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [128, 64];

    /// <summary>Passes over the training data. Default 30.</summary>
    public int Epochs { get; init; } = 30;

    /// <summary>Passes over the second cost model's data when fine-tuning. Default 10.</summary>
    public int FineTuneEpochs { get; init; } = 10;

    /// <summary>Examples per Adam step. Default 128.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Adam's learning rate. Default 1e-3.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>
    /// Optimal sub-plans taken from each training query's DP table besides the query's own optimal
    /// plan (each is the optimal plan of the sub-query it joins). Default 300 (on JOB, 300 gave CM1
    /// a held-out mean relative cost of 1.14 against 1.31 with 100).
    /// </summary>
    public int SubplansPerQuery { get; init; } = 300;

    /// <summary>Seed of weight initialisation, shuffling and sub-plan sampling. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Throws when a value is out of range, naming it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (HiddenSizes is null || HiddenSizes.Count == 0 || HiddenSizes.Any(h => h <= 0))
            throw new ArgumentOutOfRangeException(nameof(HiddenSizes), "DqOptions.HiddenSizes needs at least one positive layer size.");
        if (Epochs <= 0)
            throw new ArgumentOutOfRangeException(nameof(Epochs), $"DqOptions.Epochs must be positive, got {Epochs}.");
        if (FineTuneEpochs <= 0)
            throw new ArgumentOutOfRangeException(nameof(FineTuneEpochs), $"DqOptions.FineTuneEpochs must be positive, got {FineTuneEpochs}.");
        if (BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), $"DqOptions.BatchSize must be positive, got {BatchSize}.");
        if (!(LearningRate > 0))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), $"DqOptions.LearningRate must be positive, got {LearningRate}.");
        if (SubplansPerQuery < 0)
            throw new ArgumentOutOfRangeException(nameof(SubplansPerQuery), $"DqOptions.SubplansPerQuery must not be negative, got {SubplansPerQuery}.");
    }
}
