namespace RaySharp.RLlib.Envs;

/// <summary>
/// Steps many copies of one environment at once into shared, preallocated buffers (no allocation per
/// step). A copy whose episode ends is reset in the same step (Gymnasium's same-step autoreset): its
/// last observation goes to <see cref="FinalObservations"/> (valid where <see cref="Terminated"/> or
/// <see cref="Truncated"/> is set) and <see cref="Observations"/> holds the first observation of its
/// next episode.
/// </summary>
public sealed class VectorEnv
{
    private readonly Env[] _envs;
    private readonly int _obsSize;
    private readonly int _threads;
    private int[] _discreteActions = [];
    private double[] _continuousActions = [];

    /// <summary>
    /// Creates <paramref name="count"/> copies with <paramref name="factory"/>, stepped on
    /// <paramref name="threads"/> threads (each thread owns a fixed, contiguous block of copies, so
    /// results do not depend on the thread count).
    /// </summary>
    /// <exception cref="ArgumentException">The count or thread count is not positive, or the factory makes different environments.</exception>
    public VectorEnv(Func<Env> factory, int count, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "A vector environment needs at least one copy.");
        if (threads <= 0)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "A vector environment needs at least one thread.");
        _threads = Math.Min(threads, count);
        _envs = new Env[count];
        for (var i = 0; i < count; i++)
        {
            _envs[i] = factory() ?? throw new ArgumentException("The factory returned null.", nameof(factory));
            if (_envs[i].Id != _envs[0].Id)
                throw new ArgumentException($"All copies must be the same environment; got {_envs[0].Id} and {_envs[i].Id}.", nameof(factory));
        }
        _obsSize = _envs[0].ObservationSpace.Size;
        Observations = new float[count * _obsSize];
        FinalObservations = new float[count * _obsSize];
        Rewards = new double[count];
        Terminated = new bool[count];
        Truncated = new bool[count];
    }

    /// <summary>Threads that step the copies.</summary>
    public int Threads => _threads;

    /// <summary>The number of copies.</summary>
    public int Count => _envs.Length;

    /// <summary>The copies (for inspection; stepping them directly bypasses the buffers).</summary>
    public IReadOnlyList<Env> Envs => _envs;

    /// <summary>The observation space of one copy.</summary>
    public Box SingleObservationSpace => _envs[0].ObservationSpace;

    /// <summary>The action space of one copy.</summary>
    public Space SingleActionSpace => _envs[0].ActionSpace;

    /// <summary>Current observations, [Count, observation size] row-major.</summary>
    public float[] Observations { get; }

    /// <summary>Last observations of episodes that ended in the latest step, [Count, observation size].</summary>
    public float[] FinalObservations { get; }

    /// <summary>Rewards of the latest step.</summary>
    public double[] Rewards { get; }

    /// <summary>Which copies terminated in the latest step.</summary>
    public bool[] Terminated { get; }

    /// <summary>Which copies were truncated in the latest step.</summary>
    public bool[] Truncated { get; }

    /// <summary>Resets every copy; copy i is seeded with <paramref name="seed"/> + i when a seed is given.</summary>
    public void Reset(ulong? seed = null)
    {
        for (var i = 0; i < _envs.Length; i++)
            _envs[i].Reset(Observations.AsSpan(i * _obsSize, _obsSize), seed is { } s ? s + (ulong)i : null);
        Array.Clear(Rewards);
        Array.Clear(Terminated);
        Array.Clear(Truncated);
    }

    /// <summary>Steps every copy of a discrete-action environment with its action.</summary>
    /// <exception cref="ArgumentException">The action count differs from <see cref="Count"/>, or the environment is not discrete.</exception>
    public void Step(ReadOnlySpan<int> actions)
    {
        if (actions.Length != _envs.Length)
            throw new ArgumentException($"{_envs.Length} copies need {_envs.Length} actions, got {actions.Length}.", nameof(actions));
        if (_envs[0] is not DiscreteEnv)
            throw new ArgumentException($"{_envs[0].Id} has continuous actions; pass a double or float span of [{_envs.Length} × action size].", nameof(actions));
        if (_discreteActions.Length != actions.Length) _discreteActions = new int[actions.Length];
        actions.CopyTo(_discreteActions);
        ForBlocks(StepDiscrete);
    }

    /// <summary>Steps every copy of a continuous-action environment; <paramref name="actions"/> is [Count, action size] row-major.</summary>
    /// <exception cref="ArgumentException">The action length is wrong, or the environment is discrete.</exception>
    public void Step(ReadOnlySpan<double> actions)
    {
        CheckContinuous(actions.Length);
        actions.CopyTo(_continuousActions);
        ForBlocks(StepContinuous);
    }

    /// <inheritdoc cref="Step(ReadOnlySpan{double})"/>
    public void Step(ReadOnlySpan<float> actions)
    {
        CheckContinuous(actions.Length);
        for (var i = 0; i < actions.Length; i++)
            _continuousActions[i] = actions[i];
        ForBlocks(StepContinuous);
    }

    private void CheckContinuous(int length)
    {
        if (_envs[0] is not ContinuousEnv first)
            throw new ArgumentException($"{_envs[0].Id} has discrete actions; pass an int span of {_envs.Length} actions.", "actions");
        var size = first.ActionSize;
        if (length != _envs.Length * size)
            throw new ArgumentException($"{_envs.Length} copies with {size}-element actions need {_envs.Length * size} values, got {length}.", "actions");
        if (_continuousActions.Length != length) _continuousActions = new double[length];
    }

    private void StepDiscrete(int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            var obs = Observations.AsSpan(i * _obsSize, _obsSize);
            Record(i, ((DiscreteEnv)_envs[i]).Step(_discreteActions[i], obs), obs);
        }
    }

    private void StepContinuous(int start, int end)
    {
        var size = ((ContinuousEnv)_envs[0]).ActionSize;
        for (var i = start; i < end; i++)
        {
            var obs = Observations.AsSpan(i * _obsSize, _obsSize);
            Record(i, ((ContinuousEnv)_envs[i]).Step(_continuousActions.AsSpan(i * size, size), obs), obs);
        }
    }

    private void ForBlocks(Action<int, int> body)
    {
        if (_threads == 1)
        {
            body(0, _envs.Length);
            return;
        }
        var n = _envs.Length;
        Parallel.For(0, _threads, new ParallelOptions { MaxDegreeOfParallelism = _threads },
            t => body(t * n / _threads, (t + 1) * n / _threads));
    }

    private void Record(int i, StepOutcome o, Span<float> obs)
    {
        Rewards[i] = o.Reward;
        Terminated[i] = o.Terminated;
        Truncated[i] = o.Truncated;
        if (o.Terminated || o.Truncated)
        {
            obs.CopyTo(FinalObservations.AsSpan(i * _obsSize, _obsSize));
            _envs[i].Reset(obs);
        }
    }
}
