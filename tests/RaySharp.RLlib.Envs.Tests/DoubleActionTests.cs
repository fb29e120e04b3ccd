using RaySharp.RLlib.Envs;

namespace RaySharp.RLlib.Envs.Tests;

/// <summary>Continuous environments take double actions at full precision (Gymnasium computes in float64 for a float64 action).</summary>
public class DoubleActionTests
{
    [Fact]
    public void Pendulum_applies_a_double_torque_without_rounding_it_to_float()
    {
        const double u = 1.2345678901234567; // not a float: (float)u differs in the eighth digit
        var env = new Pendulum();
        env.Reset(seed: 0);
        env.SetState([0.5, -0.25]);
        var r = env.Step([u]);
        var state = new double[2];
        env.GetState(state);
        // Gymnasium: θ̇' = θ̇ + (3g/2l·sin θ + 3/(ml²)·u)·dt, θ' = θ + θ̇'·dt, reward -(θ² + 0.1θ̇² + 0.001u²).
        var thetaDot = -0.25 + (3 * 10.0 / 2 * Math.Sin(0.5) + 3.0 * u) * 0.05;
        Assert.Equal(thetaDot, state[1]);
        Assert.Equal(0.5 + thetaDot * 0.05, state[0]);
        Assert.Equal(-(0.5 * 0.5 + 0.1 * 0.25 * 0.25 + 0.001 * (u * u)), r.Reward);

        var rounded = new Pendulum();
        rounded.Reset(seed: 0);
        rounded.SetState([0.5, -0.25]);
        rounded.Step([(float)u]);
        rounded.GetState(state);
        Assert.NotEqual(thetaDot, state[1]);
    }

    [Fact]
    public void MountainCarContinuous_charges_the_double_action_itself()
    {
        var env = new MountainCarContinuous();
        env.Reset(seed: 0);
        var r = env.Step([0.3]);
        Assert.Equal(-(0.3 * 0.3 * 0.1), r.Reward);
        env.Reset(seed: 0);
        Assert.NotEqual(-(0.3 * 0.3 * 0.1), env.Step([0.3f]).Reward);
    }

    [Fact]
    public void A_float_action_steps_exactly_as_the_same_value_in_double()
    {
        foreach (var id in new[] { "Pendulum-v1", "MountainCarContinuous-v0" })
        {
            var a = (ContinuousEnv)Gym.Make(id);
            var b = (ContinuousEnv)Gym.Make(id);
            a.Reset(seed: 4);
            b.Reset(seed: 4);
            for (var t = 0; t < 50; t++)
            {
                var action = (float)Math.Sin(t);
                var ra = a.Step([action]);
                var rb = b.Step([(double)action]);
                Assert.Equal(ra.Observation, rb.Observation);
                Assert.Equal(ra.Reward, rb.Reward);
            }
        }
    }

    [Fact]
    public void A_vector_env_takes_double_actions_as_its_copies_do()
    {
        var vec = Gym.MakeVector("Pendulum-v1", 3);
        vec.Reset(seed: 7);
        var singles = Enumerable.Range(0, 3).Select(i => { var e = new Pendulum(); e.Reset(seed: 7 + (ulong)i); return e; }).ToArray();
        double[] actions = [0.123456789012345, -1.98765432109876, 2.5];
        vec.Step(actions);
        for (var i = 0; i < 3; i++)
        {
            var r = singles[i].Step([actions[i]]);
            Assert.Equal(r.Observation, vec.Observations.AsSpan(i * 3, 3).ToArray());
            Assert.Equal(r.Reward, vec.Rewards[i]);
        }
        Assert.Contains("need 3 values, got 2", Assert.Throws<ArgumentException>(() => vec.Step(new double[2])).Message, StringComparison.Ordinal);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => singles[0].Step([double.NaN])).Message, StringComparison.Ordinal);
    }
}
