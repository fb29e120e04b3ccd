namespace RaySharp.Nn;

/// <summary>
/// A small, fast, deterministic random number generator (xoshiro256**, seeded through SplitMix64):
/// the same seed gives the same parameters, samples and environment resets on every machine and
/// every .NET version. Not thread-safe; give each thread its own.
/// </summary>
public sealed class Rng
{
    private static readonly Lock GlobalLock = new();
    private static Rng _global = new(0);
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>Creates a generator whose whole output is determined by <paramref name="seed"/>.</summary>
    public Rng(ulong seed)
    {
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>
    /// The generator modules use when none is passed to their constructor. Starts from seed 0;
    /// <see cref="ManualSeed"/> resets it (PyTorch's <c>torch.manual_seed</c>).
    /// </summary>
    public static Rng Global
    {
        get
        {
            lock (GlobalLock) return _global;
        }
    }

    /// <summary>Replaces <see cref="Global"/> with a generator seeded by <paramref name="seed"/>.</summary>
    public static void ManualSeed(ulong seed)
    {
        lock (GlobalLock) _global = new Rng(seed);
    }

    /// <summary>A new generator whose seed is drawn from this one (for independent streams).</summary>
    public Rng Fork() => new(NextUInt64());

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        var result = RotateLeft(_s1 * 5, 7) * 9;
        var t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform float in [0, 1).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>A uniform float in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public float Uniform(float low, float high) => low + (high - low) * NextFloat();

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is not positive.</exception>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "NextInt needs a positive upper bound.");
        return (int)((NextUInt64() >> 33) * (ulong)maxExclusive >> 31);
    }

    /// <summary>A standard normal sample (Box–Muller).</summary>
    public double NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        var u2 = NextDouble();
        var r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
