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

    /// <summary>
    /// Also label every join available at each state of a training query's optimal plan (not only the
    /// optimal one) with its exact cost-to-go, from DPccp over the state's nodes. Default true.
    /// </summary>
    public bool LabelAllActions { get; init; } = true;

    /// <summary>
    /// Rounds of training on the states DQ itself visits: after training, each training query is
    /// planned greedily, every join available at each state of that plan is labelled with its exact
    /// cost-to-go, and training continues for <see cref="PolicyEpochs"/> epochs on all data so far
    /// (as DAgger does for imitation learning). Default 0: on JOB with the quick settings two rounds
    /// improved Cout, CM1 and CM3 (held-out mean 1.044 → 1.026, 1.123 → 1.088, 1.019 → 1.016) but made
    /// one CM2 query 22× the optimum (mean 1.15 → 1.34).
    /// </summary>
    public int PolicyRounds { get; init; }

    /// <summary>Epochs of each policy round. Default 10.</summary>
    public int PolicyEpochs { get; init; } = 10;

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
        if (PolicyRounds < 0)
            throw new ArgumentOutOfRangeException(nameof(PolicyRounds), $"DqOptions.PolicyRounds must not be negative, got {PolicyRounds}.");
        if (PolicyEpochs <= 0)
            throw new ArgumentOutOfRangeException(nameof(PolicyEpochs), $"DqOptions.PolicyEpochs must be positive, got {PolicyEpochs}.");
        if (SubplansPerQuery < 0)
            throw new ArgumentOutOfRangeException(nameof(SubplansPerQuery), $"DqOptions.SubplansPerQuery must not be negative, got {SubplansPerQuery}.");
    }
}
