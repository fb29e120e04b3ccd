using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>
/// Acrobot-v1 exactly as Gymnasium defines it (Sutton's two-link pendulum, "book" dynamics): a torque of
/// -1, 0 or +1 (actions 0, 1, 2) on the joint between the links; one 0.2 s step is a single
/// fourth-order Runge–Kutta step of the equations of motion, then the angles are wrapped to [-π, π]
/// and the speeds bounded by 4π and 9π. Reward -1 per step, 0 on the terminating one; terminated
/// when -cos θ₁ - cos(θ₁+θ₂) &gt; 1 (the tip above the bar); truncated at 500 steps. Observation
/// [cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂]; start state uniform in ±0.1 (stored as float32 as in Gymnasium).
/// </summary>
public sealed class Acrobot : DiscreteEnv
{
    /// <summary>Seconds per step.</summary>
    public const double Dt = 0.2;

    /// <summary>Length of link 1, m.</summary>
    public const double LinkLength1 = 1.0;

    /// <summary>Mass of link 1, kg.</summary>
    public const double LinkMass1 = 1.0;

    /// <summary>Mass of link 2, kg.</summary>
    public const double LinkMass2 = 1.0;

    /// <summary>Position of link 1's centre of mass, m.</summary>
    public const double LinkComPos1 = 0.5;

    /// <summary>Position of link 2's centre of mass, m.</summary>
    public const double LinkComPos2 = 0.5;

    /// <summary>Moment of inertia of both links.</summary>
    public const double LinkMoi = 1.0;

    /// <summary>Bound on θ̇₁.</summary>
    public const double MaxVel1 = 4 * Math.PI;

    /// <summary>Bound on θ̇₂.</summary>
    public const double MaxVel2 = 9 * Math.PI;

    private const double G = 9.8;

    private static readonly double[] AvailableTorque = [-1.0, 0.0, 1.0];
    private static readonly Box ObsSpace = new([-1f, -1f, -1f, -1f, (float)-MaxVel1, (float)-MaxVel2], [1f, 1f, 1f, 1f, (float)MaxVel1, (float)MaxVel2]);
    private static readonly Discrete Actions = new(3);

    private readonly double[] _s = new double[4];

    /// <inheritdoc/>
    public override string Id => "Acrobot-v1";

    /// <inheritdoc/>
    public override Box ObservationSpace => ObsSpace;

    /// <inheritdoc/>
    public override Space ActionSpace => Actions;

    /// <inheritdoc/>
    public override int MaxEpisodeSteps => 500;

    /// <inheritdoc/>
    public override int StateSize => 4;

    /// <inheritdoc/>
    public override void GetState(Span<double> state) => _s.CopyTo(state);

    /// <inheritdoc/>
    protected override void SetStateCore(ReadOnlySpan<double> state) => state.CopyTo(_s);

    /// <inheritdoc/>
    protected override void ResetState(Rng rng)
    {
        for (var i = 0; i < 4; i++) _s[i] = (float)(-0.1 + 0.2 * rng.NextDouble());
    }

    /// <inheritdoc/>
    protected override void Observe(Span<float> observation)
    {
        var (s0, c0) = Math.SinCos(_s[0]);
        var (s1, c1) = Math.SinCos(_s[1]);
        observation[0] = (float)c0;
        observation[1] = (float)s0;
        observation[2] = (float)c1;
        observation[3] = (float)s1;
        observation[4] = (float)_s[2];
        observation[5] = (float)_s[3];
    }

    /// <inheritdoc/>
    protected override (double Reward, bool Terminated) Transition(int action)
    {
        Step(_s, AvailableTorque[action]);
        var terminated = -Math.Cos(_s[0]) - Math.Cos(_s[1] + _s[0]) > 1.0;
        return (terminated ? 0.0 : -1.0, terminated);
    }

    /// <summary>One RK4 step of length <see cref="Dt"/> with torque <paramref name="torque"/>, then wrap and bound.</summary>
    internal static void Step(Span<double> s, double torque)
    {
        Span<double> k1 = stackalloc double[4], k2 = stackalloc double[4], k3 = stackalloc double[4], k4 = stackalloc double[4], y = stackalloc double[4];
        const double dt = Dt, dt2 = Dt / 2.0;
        Derivatives(s, torque, k1);
        for (var i = 0; i < 4; i++) y[i] = s[i] + dt2 * k1[i];
        Derivatives(y, torque, k2);
        for (var i = 0; i < 4; i++) y[i] = s[i] + dt2 * k2[i];
        Derivatives(y, torque, k3);
        for (var i = 0; i < 4; i++) y[i] = s[i] + dt * k3[i];
        Derivatives(y, torque, k4);
        for (var i = 0; i < 4; i++) s[i] += dt / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
        s[0] = Wrap(s[0], -Math.PI, Math.PI);
        s[1] = Wrap(s[1], -Math.PI, Math.PI);
        s[2] = Math.Min(Math.Max(s[2], -MaxVel1), MaxVel1);
        s[3] = Math.Min(Math.Max(s[3], -MaxVel2), MaxVel2);
    }

    /// <summary>The equations of motion (Sutton and Barto's book version).</summary>
    internal static void Derivatives(ReadOnlySpan<double> s, double a, Span<double> ds)
    {
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1, lc1 = LinkComPos1, lc2 = LinkComPos2, i1 = LinkMoi, i2 = LinkMoi;
        double theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
        var d1 = m1 * lc1 * lc1 + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * Math.Cos(theta2)) + i1 + i2;
        var d2 = m2 * (lc2 * lc2 + l1 * lc2 * Math.Cos(theta2)) + i2;
        var phi2 = m2 * lc2 * G * Math.Cos(theta1 + theta2 - Math.PI / 2.0);
        var phi1 = -m2 * l1 * lc2 * dtheta2 * dtheta2 * Math.Sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.Sin(theta2)
            + (m1 * lc1 + m2 * l1) * G * Math.Cos(theta1 - Math.PI / 2)
            + phi2;
        var ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1 * dtheta1 * Math.Sin(theta2) - phi2)
            / (m2 * lc2 * lc2 + i2 - d2 * d2 / d1);
        var ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        ds[0] = dtheta1;
        ds[1] = dtheta2;
        ds[2] = ddtheta1;
        ds[3] = ddtheta2;
    }

    /// <summary>Wraps <paramref name="x"/> into [m, M] by whole turns (Gymnasium's <c>wrap</c>).</summary>
    internal static double Wrap(double x, double m, double max)
    {
        var diff = max - m;
        while (x > max) x -= diff;
        while (x < m) x += diff;
        return x;
    }
}
