namespace RaySharp.Bench.Orleans;

/// <summary>The grain the core benchmark calls: the Orleans counterpart of an actor's no-op method.</summary>
public interface IPingGrain : IGrainWithIntegerKey
{
    /// <summary>Returns a small value, like Ray's <c>Actor.small_value</c>.</summary>
    Task<int> SmallValue();
}

/// <summary>Answers at once; a silo hosts it in the peer process.</summary>
public sealed class PingGrain : Grain, IPingGrain
{
    /// <inheritdoc/>
    public Task<int> SmallValue() => Task.FromResult(0);
}
