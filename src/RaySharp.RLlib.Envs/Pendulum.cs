using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>
/// Pendulum-v1 exactly as Gymnasium defines it: swing a pendulum up with a torque in [-2, 2].
/// Reward -(θ̃² + 0.1·θ̇² + 0.001·u²) with θ̃ the angle normalised to [-π, π) and u the clipped
/// torque; θ̇ ← clip(θ̇ + (3g/2l·sin θ + 3/(ml²)·u)·dt, ±8); θ ← θ + θ̇·dt. Never terminates;
/// truncated at 200 steps. Observation [cos θ, sin θ, θ̇]; start θ uniform in ±π, θ̇ in ±1.
/// </summary>
public sealed class Pendulum : ContinuousEnv
{
    /// <summary>Largest angular speed, rad/s.</summary>
    public const double MaxSpeed = 8;

    /// <summary>Largest torque.</summary>
    public const double MaxTorque = 2.0;

    /// <summary>Seconds per step.</summary>
    public const double Dt = 0.05;

    /// <summary>Pendulum mass.</summary>
    public const double Mass = 1.0;

    /// <summary>Pendulum length.</summary>
    public const double PoleLength = 1.0;

    private static readonly Box ObsSpace = new([-1f, -1f, (float)-MaxSpeed], [1f, 1f, (float)MaxSpeed]);
    private static readonly Box Actions = new([(float)-MaxTorque], [(float)MaxTorque]);

    private double _theta, _thetaDot;

    /// <summary>Creates the environment with gravity <paramref name="gravity"/> (Gymnasium's <c>g</c>, default 10).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gravity"/> is not finite.</exception>
    public Pendulum(double gravity = 10.0)
    {
        if (!double.IsFinite(gravity))
            throw new ArgumentOutOfRangeException(nameof(gravity), gravity, "Gravity must be finite.");
        Gravity = gravity;
    }

    /// <summary>Gravity, m/s².</summary>
    public double Gravity { get; }

    /// <inheritdoc/>
    public override string Id => "Pendulum-v1";

    /// <inheritdoc/>
    public override Box ObservationSpace => ObsSpace;

    /// <inheritdoc/>
    public override Space ActionSpace => Actions;

    /// <inheritdoc/>
    public override int MaxEpisodeSteps => 200;

    /// <inheritdoc/>
    public override int StateSize => 2;

    /// <inheritdoc/>
    public override void GetState(Span<double> state)
    {
        state[0] = _theta;
        state[1] = _thetaDot;
    }

    /// <inheritdoc/>
    protected override void SetStateCore(ReadOnlySpan<double> state) => (_theta, _thetaDot) = (state[0], state[1]);

    /// <inheritdoc/>
    protected override void ResetState(Rng rng)
    {
        _theta = -Math.PI + 2 * Math.PI * rng.NextDouble();
        _thetaDot = -1 + 2 * rng.NextDouble();
    }

    /// <inheritdoc/>
    protected override void Observe(Span<float> observation)
    {
        var (sin, cos) = Math.SinCos(_theta);
        observation[0] = (float)cos;
        observation[1] = (float)sin;
        observation[2] = (float)_thetaDot;
    }

    /// <inheritdoc/>
    protected override (double Reward, bool Terminated) Transition(ReadOnlySpan<double> action)
    {
        var u = Math.Clamp(action[0], -MaxTorque, MaxTorque);
        var th = _theta;
        var thDot = _thetaDot;
        var norm = AngleNormalize(th);
        var costs = norm * norm + 0.1 * thDot * thDot + 0.001 * (u * u);
        var newThDot = thDot + (3 * Gravity / (2 * PoleLength) * Math.Sin(th) + 3.0 / (Mass * PoleLength * PoleLength) * u) * Dt;
        newThDot = Math.Clamp(newThDot, -MaxSpeed, MaxSpeed);
        _theta = th + newThDot * Dt;
        _thetaDot = newThDot;
        return (-costs, false);
    }

    /// <summary>((x + π) mod 2π) - π with Python's floored modulo.</summary>
    internal static double AngleNormalize(double x)
    {
        var m = (x + Math.PI) % (2 * Math.PI);
        if (m < 0) m += 2 * Math.PI;
        return m - Math.PI;
    }
}
