namespace RaySharp.JoinOpt.Dq;

/// <summary>
/// Where DQ's independent pieces of work run: training-data generation (one item per query) and the
/// cross-validation folds. The seam exists so they can become RaySharp tasks once the core runtime has
/// landed; until then <see cref="ThreadPoolTaskRunner"/> runs them on the thread pool.
/// </summary>
public interface ITaskRunner
{
    /// <summary>Runs <paramref name="work"/> for 0 … <paramref name="count"/>-1 and returns the results in index order.</summary>
    T[] Map<T>(int count, Func<int, T> work, CancellationToken cancellationToken);
}

/// <summary>Runs work items with <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>.</summary>
public sealed class ThreadPoolTaskRunner : ITaskRunner
{
    /// <summary>Creates a runner using at most <paramref name="maxParallelism"/> threads (default: one per core).</summary>
    public ThreadPoolTaskRunner(int? maxParallelism = null)
    {
        if (maxParallelism is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxParallelism), $"maxParallelism must be positive, got {maxParallelism}.");
        MaxParallelism = maxParallelism ?? Environment.ProcessorCount;
    }

    /// <summary>The most work items that run at once.</summary>
    public int MaxParallelism { get; }

    /// <summary>A runner shared by default.</summary>
    public static ThreadPoolTaskRunner Default { get; } = new();

    /// <inheritdoc/>
    public T[] Map<T>(int count, Func<int, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var results = new T[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = MaxParallelism, CancellationToken = cancellationToken }, i => results[i] = work(i));
        return results;
    }
}
