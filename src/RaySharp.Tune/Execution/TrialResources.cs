namespace RaySharp.Tune;

/// <summary>
/// What one trial asks the RaySharp runtime for when it runs as an actor (<see cref="TuneOptions.Ray"/>):
/// the cluster starts a trial only where these resources are free, so they bound how many trials run at once
/// alongside <see cref="TuneOptions.MaxConcurrentTrials"/>.
/// </summary>
public sealed record TrialResources
{
    /// <summary>CPUs reserved for the trial's actor. Default 1.</summary>
    public double Cpus { get; init; } = 1;

    /// <summary>Memory reserved for the trial's actor, in bytes. Default 0 (none reserved).</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Custom resources (e.g. <c>{ ["gpu"] = 1 }</c>), matched against the node's. Default none.</summary>
    public IReadOnlyDictionary<string, double>? Custom { get; init; }

    internal void Validate(string what)
    {
        if (!(Cpus >= 0) || double.IsInfinity(Cpus))
            throw new ArgumentException($"{what}: Cpus must be a finite number ≥ 0, got {Cpus}.");
        if (MemoryBytes < 0)
            throw new ArgumentException($"{what}: MemoryBytes must be ≥ 0, got {MemoryBytes}.");
        foreach (var (name, amount) in Custom ?? new Dictionary<string, double>())
        {
            if (string.IsNullOrEmpty(name) || !(amount >= 0) || double.IsInfinity(amount))
                throw new ArgumentException($"{what}: custom resource '{name}' must have a name and a finite amount ≥ 0, got {amount}.");
        }
    }

    /// <summary>A key under which idle actors with the same request are pooled for reuse.</summary>
    internal string Key => $"{Cpus}|{MemoryBytes}|{string.Join(',', (Custom ?? new Dictionary<string, double>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}";
}
