using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>
/// CartPole-v1 exactly as Gymnasium defines it (Barto, Sutton and Anderson's cart-pole, Euler
/// integration): push the cart left (0) or right (1) to keep the pole up. Reward 1 every step,
/// including the one that terminates; terminated when |x| &gt; 2.4 or |θ| &gt; 12°; truncated at 500
/// steps. Observation [x, ẋ, θ, θ̇]; start state uniform in ±0.05.
/// </summary>
public sealed class CartPole : DiscreteEnv
{
    /// <summary>Gravity, m/s².</summary>
    public const double Gravity = 9.8;

    /// <summary>Cart mass, kg.</summary>
    public const double MassCart = 1.0;

    /// <summary>Pole mass, kg.</summary>
    public const double MassPole = 0.1;

    /// <summary>Half the pole's length, m.</summary>
    public const double Length = 0.5;

    /// <summary>Magnitude of the push, N.</summary>
    public const double ForceMag = 10.0;

    /// <summary>Seconds between state updates.</summary>
    public const double Tau = 0.02;

    /// <summary>Cart positions beyond ± this terminate the episode.</summary>
    public const double XThreshold = 2.4;

    /// <summary>Pole angles beyond ± this (12°) terminate the episode.</summary>
    public const double ThetaThresholdRadians = 12 * 2 * Math.PI / 360;

    private const double TotalMass = MassPole + MassCart;
    private const double PoleMassLength = MassPole * Length;

    private static readonly Box ObsSpace = new(
        [(float)(-XThreshold * 2), float.MinValue, (float)(-ThetaThresholdRadians * 2), float.MinValue],
        [(float)(XThreshold * 2), float.MaxValue, (float)(ThetaThresholdRadians * 2), float.MaxValue]);

    private static readonly Discrete Actions = new(2);

    private double _x, _xDot, _theta, _thetaDot;

    /// <inheritdoc/>
    public override string Id => "CartPole-v1";

    /// <inheritdoc/>
    public override Box ObservationSpace => ObsSpace;

    /// <inheritdoc/>
    public override Space ActionSpace => Actions;

    /// <inheritdoc/>
    public override int MaxEpisodeSteps => 500;

    /// <inheritdoc/>
    public override int StateSize => 4;

    /// <inheritdoc/>
    public override void GetState(Span<double> state)
    {
        state[0] = _x;
        state[1] = _xDot;
        state[2] = _theta;
        state[3] = _thetaDot;
    }

    /// <inheritdoc/>
    protected override void SetStateCore(ReadOnlySpan<double> state) => (_x, _xDot, _theta, _thetaDot) = (state[0], state[1], state[2], state[3]);

    /// <inheritdoc/>
    protected override void ResetState(Rng rng)
    {
        _x = Uniform(rng);
        _xDot = Uniform(rng);
        _theta = Uniform(rng);
        _thetaDot = Uniform(rng);
    }

    /// <inheritdoc/>
    protected override void Observe(Span<float> observation)
    {
        observation[0] = (float)_x;
        observation[1] = (float)_xDot;
        observation[2] = (float)_theta;
        observation[3] = (float)_thetaDot;
    }

    /// <inheritdoc/>
    protected override (double Reward, bool Terminated) Transition(int action)
    {
        var terminated = Dynamics(ref _x, ref _xDot, ref _theta, ref _thetaDot, action);
        return (1.0, terminated);
    }

    /// <summary>One Euler step of the cart-pole equations; returns whether the new state is terminal.</summary>
    internal static bool Dynamics(ref double x, ref double xDot, ref double theta, ref double thetaDot, int action)
    {
        var force = action == 1 ? ForceMag : -ForceMag;
        var (sin, cos) = Math.SinCos(theta);
        var temp = (force + PoleMassLength * thetaDot * thetaDot * sin) / TotalMass;
        var thetaAcc = (Gravity * sin - cos * temp) / (Length * (4.0 / 3.0 - MassPole * cos * cos / TotalMass));
        var xAcc = temp - PoleMassLength * thetaAcc * cos / TotalMass;
        x += Tau * xDot;
        xDot += Tau * xAcc;
        theta += Tau * thetaDot;
        thetaDot += Tau * thetaAcc;
        return x < -XThreshold || x > XThreshold || theta < -ThetaThresholdRadians || theta > ThetaThresholdRadians;
    }

    internal static double Uniform(Rng rng) => -0.05 + 0.1 * rng.NextDouble();
}
