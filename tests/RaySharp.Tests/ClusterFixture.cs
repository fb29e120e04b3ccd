namespace RaySharp.Tests;

/// <summary>One embedded cluster (node in the test process, two worker processes) shared by the tests of a collection.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public Ray Ray { get; private set; } = null!;

    public async Task InitializeAsync() => Ray = await Ray.InitAsync(new RayOptions { NumCpus = 2 });

    public async Task DisposeAsync() => await Ray.DisposeAsync();
}

[CollectionDefinition("cluster")]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>;

internal static class Within
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Awaits <paramref name="task"/>, failing with <paramref name="what"/> if it takes longer than a minute.</summary>
    public static async Task<T> Await<T>(ValueTask<T> task, string what)
    {
        try
        {
            return await task.AsTask().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {Timeout.TotalSeconds} s waiting for {what}.");
        }
    }

    /// <summary>Polls (without sleeping on a fixed schedule for synchronisation) until <paramref name="condition"/> holds.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out after {Timeout.TotalSeconds} s waiting until {what}.");
            await Task.Delay(20);
        }
    }
}
