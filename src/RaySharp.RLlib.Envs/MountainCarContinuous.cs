using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>
/// MountainCarContinuous-v0 exactly as Gymnasium defines it: a force f = clip(a, ±1);
/// v ← clip(v + 0.0015·f - 0.0025·cos 3x, ±0.07); x ← clip(x + v, [-1.2, 0.6]) (v = 0 at the left
/// wall). Reward -0.1·a² per step (the unclipped action) plus 100 on reaching the goal; terminated
/// when x ≥ 0.45 and v ≥ 0; truncated at 999 steps. The state is kept in float32, as Gymnasium
/// stores it. Observation [x, v]; start x uniform in [-0.6, -0.4], v = 0.
/// </summary>
public sealed class MountainCarContinuous : ContinuousEnv
{
    /// <summary>Left end of the track.</summary>
    public const double MinPosition = MountainCarTrack.MinPosition;

    /// <summary>Right end of the track.</summary>
    public const double MaxPosition = MountainCarTrack.MaxPosition;

    /// <summary>Largest speed.</summary>
    public const double MaxSpeed = MountainCarTrack.MaxSpeed;

    /// <summary>Position of the flag.</summary>
    public const double GoalPosition = 0.45;

    /// <summary>Engine power.</summary>
    public const double Power = 0.0015;

    private static readonly Box Actions = new([-1f], [1f]);

    private float _position, _velocity;

    /// <summary>Creates the environment; <paramref name="goalVelocity"/> is Gymnasium's <c>goal_velocity</c> (default 0).</summary>
    public MountainCarContinuous(double goalVelocity = 0) => GoalVelocity = goalVelocity;

    /// <summary>The speed the car must have (at least) at the flag.</summary>
    public double GoalVelocity { get; }

    /// <inheritdoc/>
    public override string Id => "MountainCarContinuous-v0";

    /// <inheritdoc/>
    public override Box ObservationSpace => MountainCarTrack.ObservationSpace;

    /// <inheritdoc/>
    public override Space ActionSpace => Actions;

    /// <inheritdoc/>
    public override int MaxEpisodeSteps => 999;

    /// <inheritdoc/>
    public override int StateSize => 2;

    /// <inheritdoc/>
    public override void GetState(Span<double> state)
    {
        state[0] = _position;
        state[1] = _velocity;
    }

    /// <inheritdoc/>
    protected override void SetStateCore(ReadOnlySpan<double> state) => (_position, _velocity) = ((float)state[0], (float)state[1]);

    /// <inheritdoc/>
    protected override void ResetState(Rng rng)
    {
        _position = (float)MountainCarTrack.StartPosition(rng);
        _velocity = 0;
    }

    /// <inheritdoc/>
    protected override void Observe(Span<float> observation)
    {
        observation[0] = _position;
        observation[1] = _velocity;
    }

    /// <inheritdoc/>
    protected override (double Reward, bool Terminated) Transition(ReadOnlySpan<double> action)
    {
        var a = action[0];
        var force = Math.Min(Math.Max(a, -1.0), 1.0);
        var (x, v) = MountainCarTrack.Step(_position, _velocity, force * Power);
        var terminated = x >= GoalPosition && v >= GoalVelocity;
        var reward = terminated ? 100.0 : 0.0;
        reward -= a * a * 0.1;
        (_position, _velocity) = ((float)x, (float)v);
        return (reward, terminated);
    }
}
