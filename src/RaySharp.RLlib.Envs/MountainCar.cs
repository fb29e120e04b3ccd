using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>
/// MountainCar-v0 exactly as Gymnasium defines it: accelerate left (0), not at all (1) or right (2)
/// to drive an underpowered car up the right hill. v ← clip(v + (a-1)·0.001 - 0.0025·cos 3x, ±0.07);
/// x ← clip(x + v, [-1.2, 0.6]), with v set to 0 when the car hits the left wall. Reward -1 per step;
/// terminated when x ≥ 0.5 and v ≥ 0; truncated at 200 steps. Observation [x, v]; start x uniform in
/// [-0.6, -0.4], v = 0.
/// </summary>
public sealed class MountainCar : DiscreteEnv
{
    /// <summary>Left end of the track.</summary>
    public const double MinPosition = MountainCarTrack.MinPosition;

    /// <summary>Right end of the track.</summary>
    public const double MaxPosition = MountainCarTrack.MaxPosition;

    /// <summary>Largest speed.</summary>
    public const double MaxSpeed = MountainCarTrack.MaxSpeed;

    /// <summary>Position of the flag.</summary>
    public const double GoalPosition = 0.5;

    /// <summary>Engine force per action unit.</summary>
    public const double Force = 0.001;

    /// <summary>Gravity term.</summary>
    public const double Gravity = MountainCarTrack.Gravity;

    private static readonly Discrete Actions = new(3);

    private double _position, _velocity;

    /// <summary>Creates the environment; <paramref name="goalVelocity"/> is Gymnasium's <c>goal_velocity</c> (default 0).</summary>
    public MountainCar(double goalVelocity = 0) => GoalVelocity = goalVelocity;

    /// <summary>The speed the car must have (at least) at the flag.</summary>
    public double GoalVelocity { get; }

    /// <inheritdoc/>
    public override string Id => "MountainCar-v0";

    /// <inheritdoc/>
    public override Box ObservationSpace => MountainCarTrack.ObservationSpace;

    /// <inheritdoc/>
    public override Space ActionSpace => Actions;

    /// <inheritdoc/>
    public override int MaxEpisodeSteps => 200;

    /// <inheritdoc/>
    public override int StateSize => 2;

    /// <inheritdoc/>
    public override void GetState(Span<double> state)
    {
        state[0] = _position;
        state[1] = _velocity;
    }

    /// <inheritdoc/>
    protected override void SetStateCore(ReadOnlySpan<double> state) => (_position, _velocity) = (state[0], state[1]);

    /// <inheritdoc/>
    protected override void ResetState(Rng rng)
    {
        _position = MountainCarTrack.StartPosition(rng);
        _velocity = 0;
    }

    /// <inheritdoc/>
    protected override void Observe(Span<float> observation)
    {
        observation[0] = (float)_position;
        observation[1] = (float)_velocity;
    }

    /// <inheritdoc/>
    protected override (double Reward, bool Terminated) Transition(int action)
    {
        var (x, v) = MountainCarTrack.Step(_position, _velocity, (action - 1) * Force);
        (_position, _velocity) = (x, v);
        return (-1.0, x >= GoalPosition && v >= GoalVelocity);
    }
}
