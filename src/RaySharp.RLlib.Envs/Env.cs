using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>What one step returned, without the observation (written into a caller's buffer).</summary>
/// <param name="Reward">The reward for the transition.</param>
/// <param name="Terminated">The episode reached a terminal state of the task (no bootstrapping past it).</param>
/// <param name="Truncated">
/// The step reached the time limit (as Gymnasium's <c>TimeLimit</c>: also on a step that terminates, so both
/// can be true; bootstrapping from the final observation is valid only when <paramref name="Terminated"/> is false).
/// </param>
public readonly record struct StepOutcome(double Reward, bool Terminated, bool Truncated);

/// <summary>Gymnasium's step tuple: observation, reward, terminated, truncated, info.</summary>
/// <param name="Observation">The observation after the step.</param>
/// <param name="Reward">The reward for the transition.</param>
/// <param name="Terminated">The episode reached a terminal state of the task.</param>
/// <param name="Truncated">The step reached the time limit (also on a step that terminates, as in Gymnasium).</param>
/// <param name="Info">Extra diagnostics (empty for the classic-control set).</param>
public readonly record struct StepResult(float[] Observation, double Reward, bool Terminated, bool Truncated, IReadOnlyDictionary<string, object> Info);

/// <summary>
/// A Gymnasium-style environment with its <c>TimeLimit</c> built in: <see cref="Reset(ulong?)"/> starts an
/// episode (optionally reseeding), a step returns the next observation, the reward and whether the
/// episode terminated or was truncated after <see cref="MaxEpisodeSteps"/> steps. As in Gymnasium, the
/// step that reaches the limit is truncated even when it also terminates. Stepping a finished episode
/// throws: call <see cref="Reset(ulong?)"/>. Not thread-safe.
/// </summary>
public abstract class Env
{
    private static readonly IReadOnlyDictionary<string, object> EmptyInfo = new Dictionary<string, object>();
    private Rng? _rng;
    private bool _needsReset = true;

    /// <summary>The Gymnasium id, e.g. <c>CartPole-v1</c>.</summary>
    public abstract string Id { get; }

    /// <summary>The observations this environment produces.</summary>
    public abstract Box ObservationSpace { get; }

    /// <summary>The actions it accepts.</summary>
    public abstract Space ActionSpace { get; }

    /// <summary>Steps after which an episode is truncated (Gymnasium's registered <c>max_episode_steps</c>).</summary>
    public abstract int MaxEpisodeSteps { get; }

    /// <summary>
    /// Steps taken in the current episode (Gymnasium's <c>TimeLimit._elapsed_steps</c>). Setting it, with
    /// <see cref="SetState"/>, restores an episode part-way through: the step that brings it to
    /// <see cref="MaxEpisodeSteps"/> is truncated. Setting it neither starts nor ends an episode.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int ElapsedSteps
    {
        get;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    }

    /// <summary>The environment's random generator (reset distributions).</summary>
    protected Rng Random => _rng ??= new Rng((ulong)System.Random.Shared.NextInt64());

    /// <summary>
    /// Starts an episode and returns its first observation. With a <paramref name="seed"/> the
    /// generator is reseeded, so the same seed always gives the same episode start; without one it
    /// continues (seeded from entropy the first time, as Gymnasium does).
    /// </summary>
    public float[] Reset(ulong? seed = null)
    {
        var obs = new float[ObservationSpace.Size];
        Reset(obs, seed);
        return obs;
    }

    /// <summary><see cref="Reset(ulong?)"/> writing the observation into <paramref name="observation"/>.</summary>
    /// <exception cref="ArgumentException">The buffer is shorter than the observation.</exception>
    public void Reset(Span<float> observation, ulong? seed = null)
    {
        CheckBuffer(observation);
        if (seed is { } s) _rng = new Rng(s);
        ResetState(Random);
        ElapsedSteps = 0;
        _needsReset = false;
        Observe(observation);
    }

    /// <summary>Information returned with every step and reset (empty for the classic-control set).</summary>
    public IReadOnlyDictionary<string, object> Info => EmptyInfo;

    /// <summary>The number of values in the physical state (see <see cref="GetState"/>).</summary>
    public abstract int StateSize { get; }

    /// <summary>Copies the physical state (as Gymnasium's <c>env.unwrapped.state</c>, float64) into <paramref name="state"/>.</summary>
    public abstract void GetState(Span<double> state);

    /// <summary>
    /// Overwrites the physical state (tests, model-based planning). The episode's step count
    /// (<see cref="ElapsedSteps"/>, which has its own setter) and status are unchanged.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="state"/> does not have <see cref="StateSize"/> values.</exception>
    public void SetState(ReadOnlySpan<double> state)
    {
        if (state.Length != StateSize)
            throw new ArgumentException($"{Id} has {StateSize} state values, got {state.Length}.", nameof(state));
        SetStateCore(state);
    }

    /// <summary>Overwrites the physical state; <paramref name="state"/> has <see cref="StateSize"/> values.</summary>
    protected abstract void SetStateCore(ReadOnlySpan<double> state);

    /// <summary>Draws the start state of an episode.</summary>
    protected abstract void ResetState(Rng rng);

    /// <summary>Writes the observation of the current state.</summary>
    protected abstract void Observe(Span<float> observation);

    /// <summary>Applies the time limit as Gymnasium's <c>TimeLimit</c> does: whether or not the step terminated.</summary>
    private protected StepOutcome Finish(double reward, bool terminated)
    {
        var truncated = ElapsedSteps >= MaxEpisodeSteps;
        if (terminated || truncated) _needsReset = true;
        return new StepOutcome(reward, terminated, truncated);
    }

    /// <summary>Checks the episode is running and advances the step counter.</summary>
    private protected void BeginStep()
    {
        if (_needsReset)
            throw new InvalidOperationException($"{Id}: the episode has ended (or never started); call Reset() before Step().");
        ElapsedSteps++;
    }

    private protected void CheckBuffer(Span<float> observation)
    {
        if (observation.Length < ObservationSpace.Size)
            throw new ArgumentException($"{Id}: the observation buffer holds {observation.Length} floats but observations have {ObservationSpace.Size}.", nameof(observation));
    }
}

/// <summary>An environment with a <see cref="Discrete"/> action space.</summary>
public abstract class DiscreteEnv : Env
{
    /// <summary>The number of actions.</summary>
    public int ActionCount => ((Discrete)ActionSpace).N;

    /// <summary>Takes <paramref name="action"/> and returns Gymnasium's step tuple.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The action is not in the action space.</exception>
    /// <exception cref="InvalidOperationException">The episode has ended; call <see cref="Env.Reset(ulong?)"/>.</exception>
    public StepResult Step(int action)
    {
        var obs = new float[ObservationSpace.Size];
        var o = Step(action, obs);
        return new StepResult(obs, o.Reward, o.Terminated, o.Truncated, Info);
    }

    /// <summary>Takes <paramref name="action"/>, writing the next observation into <paramref name="observation"/> (no allocation).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The action is not in the action space.</exception>
    /// <exception cref="InvalidOperationException">The episode has ended; call <see cref="Env.Reset(ulong?)"/>.</exception>
    public StepOutcome Step(int action, Span<float> observation)
    {
        if ((uint)action >= (uint)ActionCount)
            throw new ArgumentOutOfRangeException(nameof(action), action, $"{Id} takes actions 0..{ActionCount - 1}.");
        CheckBuffer(observation);
        BeginStep();
        var (reward, terminated) = Transition(action);
        Observe(observation);
        return Finish(reward, terminated);
    }

    /// <summary>Advances the state by one action; returns the reward and whether the state is terminal.</summary>
    protected abstract (double Reward, bool Terminated) Transition(int action);
}

/// <summary>
/// An environment with a <see cref="Box"/> action space. Actions are taken as <c>double</c> (the physics
/// runs in double, as Gymnasium's does for a float64 action) or <c>float</c> (widened exactly), so a
/// policy's actions need not be rounded to either.
/// </summary>
public abstract class ContinuousEnv : Env
{
    /// <summary>The number of action elements.</summary>
    public int ActionSize => ((Box)ActionSpace).Size;

    /// <summary>Takes <paramref name="action"/> and returns Gymnasium's step tuple.</summary>
    /// <exception cref="ArgumentException">The action has the wrong length or is NaN.</exception>
    /// <exception cref="InvalidOperationException">The episode has ended; call <see cref="Env.Reset(ulong?)"/>.</exception>
    public StepResult Step(ReadOnlySpan<double> action)
    {
        var obs = new float[ObservationSpace.Size];
        var o = Step(action, obs);
        return new StepResult(obs, o.Reward, o.Terminated, o.Truncated, Info);
    }

    /// <inheritdoc cref="Step(ReadOnlySpan{double})"/>
    public StepResult Step(ReadOnlySpan<float> action)
    {
        var obs = new float[ObservationSpace.Size];
        var o = Step(action, obs);
        return new StepResult(obs, o.Reward, o.Terminated, o.Truncated, Info);
    }

    /// <summary>Takes <paramref name="action"/>, writing the next observation into <paramref name="observation"/> (no allocation).</summary>
    /// <exception cref="ArgumentException">The action has the wrong length or is NaN.</exception>
    /// <exception cref="InvalidOperationException">The episode has ended; call <see cref="Env.Reset(ulong?)"/>.</exception>
    public StepOutcome Step(ReadOnlySpan<double> action, Span<float> observation)
    {
        if (action.Length != ActionSize)
            throw new ArgumentException($"{Id} takes actions of {ActionSize} element(s), got {action.Length}.", nameof(action));
        foreach (var a in action)
            if (double.IsNaN(a))
                throw new ArgumentException($"{Id} was given a NaN action.", nameof(action));
        CheckBuffer(observation);
        BeginStep();
        var (reward, terminated) = Transition(action);
        Observe(observation);
        return Finish(reward, terminated);
    }

    /// <inheritdoc cref="Step(ReadOnlySpan{double}, Span{float})"/>
    public StepOutcome Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        Span<double> wide = action.Length <= 16 ? stackalloc double[action.Length] : new double[action.Length];
        for (var i = 0; i < action.Length; i++)
            wide[i] = action[i];
        return Step(wide, observation);
    }

    /// <summary>
    /// Advances the state by one action (out-of-range values are clipped as Gymnasium does); returns the
    /// reward and whether the state is terminal.
    /// </summary>
    protected abstract (double Reward, bool Terminated) Transition(ReadOnlySpan<double> action);
}
