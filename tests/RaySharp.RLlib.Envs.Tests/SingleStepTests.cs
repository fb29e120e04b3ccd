using RaySharp.RLlib.Envs;

namespace RaySharp.RLlib.Envs.Tests;

/// <summary>
/// Each expected value below was computed by hand (in double precision) from Gymnasium's equations
/// for the stated start state and action.
/// </summary>
public class SingleStepTests
{
    private static double[] State(Env env)
    {
        var s = new double[env.StateSize];
        env.GetState(s);
        return s;
    }

    private static void Near(double expected, double actual, double tol = 1e-12) =>
        Assert.True(Math.Abs(expected - actual) <= tol, $"expected {expected:R}, got {actual:R}");

    [Fact]
    public void CartPole_pushed_right_follows_the_euler_step()
    {
        var env = new CartPole();
        env.Reset(seed: 1);
        env.SetState([0.01, -0.02, 0.03, 0.04]);
        var r = env.Step(1);
        var s = State(env);
        Near(0.009600000000000001, s[0]);
        Near(0.17467919574755525, s[1]);
        Near(0.030799999999999998, s[2]);
        Near(-0.2430687179600081, s[3]);
        Assert.Equal(new[] { 0.0096f, 0.17467919574755525f, 0.0308f, -0.2430687179600081f }, r.Observation);
        Assert.Equal(1.0, r.Reward);
        Assert.False(r.Terminated);
        Assert.False(r.Truncated);
        Assert.Empty(r.Info);
    }

    [Fact]
    public void CartPole_pushed_left_follows_the_euler_step()
    {
        var env = new CartPole();
        env.Reset(seed: 1);
        env.SetState([0.01, -0.02, 0.03, 0.04]);
        env.Step(0);
        var s = State(env);
        Near(-0.21553901710278936, s[1]);
        Near(0.34199522377603914, s[3]);
    }

    [Fact]
    public void CartPole_terminates_past_twelve_degrees_and_still_pays_the_step()
    {
        var env = new CartPole();
        env.Reset(seed: 2);
        env.SetState([0, 0, CartPole.ThetaThresholdRadians - 1e-4, 1.0]);
        var r = env.Step(1);
        Assert.True(r.Terminated);
        Assert.Equal(1.0, r.Reward);
        Assert.Throws<InvalidOperationException>(() => env.Step(1));
    }

    [Fact]
    public void Pendulum_step_matches_the_equations_and_cost()
    {
        var env = new Pendulum();
        env.Reset(seed: 3);
        env.SetState([1.0, -0.5]);
        var r = env.Step([1.5f]);
        Assert.Equal(-1.02725, r.Reward, 12);
        Assert.Equal((float)0.5252349282675404, r.Observation[0]);
        Assert.Equal((float)0.8509572669222537, r.Observation[1]);
        Assert.Equal((float)0.3561032386059225, r.Observation[2]);
        Assert.False(r.Terminated);
    }

    [Fact]
    public void Pendulum_clips_torque_and_normalises_the_angle_in_the_cost()
    {
        var env = new Pendulum();
        env.Reset(seed: 3);
        env.SetState([4.0, 7.9]);
        var r = env.Step([5f]);
        Near(-11.457935146920741, r.Reward, 1e-9);
        Near(7.632398128519054, State(env)[1], 1e-9);
    }

    [Fact]
    public void MountainCar_accelerating_right_follows_the_update()
    {
        var env = new MountainCar();
        env.Reset(seed: 4);
        env.SetState([-0.5, 0.01]);
        var r = env.Step(2);
        var s = State(env);
        Near(-0.48917684300416925, s[0]);
        Near(0.010823156995830743, s[1]);
        Assert.Equal(-1.0, r.Reward);
        Assert.False(r.Terminated);
    }

    [Fact]
    public void MountainCar_stops_at_the_left_wall_and_terminates_at_the_flag()
    {
        var env = new MountainCar();
        env.Reset(seed: 4);
        env.SetState([-1.19, -0.02]);
        env.Step(0);
        Assert.Equal(new[] { -1.2, 0.0 }, State(env));
        env.SetState([0.49, 0.02]);
        var r = env.Step(2);
        Near(0.5107484356665326, State(env)[0]);
        Assert.True(r.Terminated);
        Assert.Equal(-1.0, r.Reward);
    }

    [Fact]
    public void MountainCarContinuous_charges_the_squared_action_and_pays_100_at_the_goal()
    {
        var env = new MountainCarContinuous();
        env.Reset(seed: 5);
        env.SetState([-0.5, 0.01]);
        var r = env.Step([0.5f]);
        Near(-0.025, r.Reward);
        Near(-0.4894268430041693, State(env)[0], 1e-6);
        Near(0.010573156995830743, State(env)[1], 1e-7);

        env.SetState([0.44, 0.02]);
        r = env.Step([2f]); // force clipped to 1, cost uses the raw action
        Assert.True(r.Terminated);
        Near(99.6, r.Reward);
        Near(0.46087956137086905, State(env)[0], 1e-6);
    }

    [Fact]
    public void Acrobot_takes_one_rk4_step_of_the_book_dynamics()
    {
        var env = new Acrobot();
        env.Reset(seed: 6);
        env.SetState([0.05, -0.03, 0.1, -0.2]);
        var r = env.Step(2);
        var s = State(env);
        Near(0.04903870635826079, s[0]);
        Near(-0.02600004511990665, s[1]);
        Near(-0.10899607843931322, s[2]);
        Near(0.2386115189039908, s[3]);
        Assert.Equal(-1.0, r.Reward);
        Assert.Equal((float)Math.Cos(s[0]), r.Observation[0]);
        Assert.Equal((float)Math.Sin(s[1]), r.Observation[3]);
    }

    [Fact]
    public void Acrobot_wraps_angles_and_bounds_speeds()
    {
        var env = new Acrobot();
        env.Reset(seed: 6);
        env.SetState([3.1, 0.5, 12.0, 20.0]);
        env.Step(0);
        var s = State(env);
        Near(0.9609676120010135, s[0], 1e-10);
        Near(0.8059301004870381, s[1], 1e-10);
        Assert.Equal(Acrobot.MaxVel1, s[2]);
        Near(-18.73218202709061, s[3], 1e-10);
    }

    [Fact]
    public void Acrobot_terminates_with_reward_zero_when_the_tip_is_above_the_bar()
    {
        var env = new Acrobot();
        env.Reset(seed: 7);
        env.SetState([Math.PI, 0, 0, 0]); // straight up: -cos π - cos π = 2 > 1
        var r = env.Step(1);
        Assert.True(r.Terminated);
        Assert.Equal(0.0, r.Reward);
    }
}
