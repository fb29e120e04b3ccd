using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>The set of valid observations or actions of an environment (Gymnasium's <c>spaces</c>).</summary>
public abstract class Space
{
    /// <summary>The shape of one element (empty for <see cref="Discrete"/>).</summary>
    public abstract IReadOnlyList<int> Shape { get; }
}

/// <summary>The integers 0 … <see cref="N"/>-1.</summary>
public sealed class Discrete : Space
{
    /// <summary>Creates the space.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is not positive.</exception>
    public Discrete(int n)
    {
        if (n <= 0)
            throw new ArgumentOutOfRangeException(nameof(n), n, "A Discrete space needs at least one element.");
        N = n;
    }

    /// <summary>The number of elements.</summary>
    public int N { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<int> Shape => [];

    /// <summary>Whether <paramref name="value"/> is in the space.</summary>
    public bool Contains(int value) => value >= 0 && value < N;

    /// <summary>A uniformly random element.</summary>
    public int Sample(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return rng.NextInt(N);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Discrete({N})";
}

/// <summary>A box of float32 vectors, each element between its own low and high bound (either may be infinite).</summary>
public sealed class Box : Space
{
    private readonly float[] _low;
    private readonly float[] _high;

    /// <summary>Creates the space from per-element bounds.</summary>
    /// <exception cref="ArgumentException">The bounds differ in length, or a low bound exceeds its high bound.</exception>
    public Box(float[] low, float[] high)
    {
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(high);
        if (low.Length != high.Length)
            throw new ArgumentException($"Box bounds differ in length: low has {low.Length}, high has {high.Length}.", nameof(high));
        for (var i = 0; i < low.Length; i++)
            if (!(low[i] <= high[i]))
                throw new ArgumentException($"Box low[{i}] = {low[i]} exceeds high[{i}] = {high[i]}.", nameof(low));
        _low = (float[])low.Clone();
        _high = (float[])high.Clone();
    }

    /// <summary>The per-element lower bounds.</summary>
    public IReadOnlyList<float> Low => _low;

    /// <summary>The per-element upper bounds.</summary>
    public IReadOnlyList<float> High => _high;

    /// <summary>The number of elements.</summary>
    public int Size => _low.Length;

    /// <inheritdoc/>
    public override IReadOnlyList<int> Shape => [_low.Length];

    /// <summary>Whether <paramref name="value"/> has the right length and lies within the bounds.</summary>
    public bool Contains(ReadOnlySpan<float> value)
    {
        if (value.Length != _low.Length) return false;
        for (var i = 0; i < value.Length; i++)
            if (!(value[i] >= _low[i] && value[i] <= _high[i])) return false;
        return true;
    }

    /// <summary>
    /// A random element: uniform where both bounds are finite, normal where both are infinite, and
    /// shifted exponential where one is (Gymnasium's rule).
    /// </summary>
    public float[] Sample(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var x = new float[_low.Length];
        for (var i = 0; i < x.Length; i++)
        {
            bool lo = float.IsFinite(_low[i]), hi = float.IsFinite(_high[i]);
            x[i] = (lo, hi) switch
            {
                (true, true) => rng.Uniform(_low[i], _high[i]),
                (false, false) => (float)rng.NextNormal(),
                (true, false) => _low[i] + (float)-Math.Log(1 - rng.NextDouble()),
                _ => _high[i] - (float)-Math.Log(1 - rng.NextDouble()),
            };
        }
        return x;
    }

    /// <inheritdoc/>
    public override string ToString() => $"Box({_low.Length})";
}
