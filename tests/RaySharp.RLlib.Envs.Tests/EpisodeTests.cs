using RaySharp.Nn;
using RaySharp.RLlib.Envs;

namespace RaySharp.RLlib.Envs.Tests;

public class EpisodeTests
{
    [Theory]
    [InlineData("Pendulum-v1", 200)]
    [InlineData("MountainCar-v0", 200)]
    [InlineData("MountainCarContinuous-v0", 999)]
    public void Episodes_that_never_reach_the_goal_are_truncated_at_the_registered_limit(string id, int limit)
    {
        var env = Gym.Make(id);
        env.Reset(seed: 0);
        Assert.Equal(limit, env.MaxEpisodeSteps);
        for (var t = 1; t <= limit; t++)
        {
            var o = env switch
            {
                DiscreteEnv d => d.Step(1), // MountainCar: coast; never climbs from the valley
                ContinuousEnv c => c.Step(new float[c.ActionSize]),
                _ => throw new InvalidOperationException(),
            };
            Assert.False(o.Terminated, $"{id} terminated at step {t}");
            Assert.Equal(t == limit, o.Truncated);
        }
        Assert.Throws<InvalidOperationException>(() => env switch
        {
            DiscreteEnv d => d.Step(1),
            ContinuousEnv c => c.Step(new float[c.ActionSize]),
            _ => throw new InvalidOperationException(),
        });
    }

    [Fact]
    public void CartPole_kept_upright_by_a_simple_controller_is_truncated_at_500_steps()
    {
        var env = new CartPole();
        var obs = env.Reset(seed: 0);
        for (var t = 1; t <= 500; t++)
        {
            var action = obs[2] + 0.5f * obs[3] + 0.01f * obs[0] + 0.1f * obs[1] > 0 ? 1 : 0;
            var r = env.Step(action);
            obs = r.Observation;
            Assert.False(r.Terminated, $"pole fell at step {t}");
            Assert.Equal(t == 500, r.Truncated);
        }
    }

    [Fact]
    public void Acrobot_is_truncated_at_500_steps_when_it_never_swings_up()
    {
        var env = new Acrobot();
        env.Reset(seed: 0);
        StepResult r = default;
        for (var t = 0; t < 500; t++) r = env.Step(1);
        Assert.True(r.Truncated);
        Assert.False(r.Terminated);
    }

    [Fact]
    public void Resets_with_the_same_seed_give_the_same_start_within_gymnasiums_bounds()
    {
        foreach (var id in Gym.Ids)
        {
            var a = Gym.Make(id).Reset(seed: 42);
            var b = Gym.Make(id).Reset(seed: 42);
            Assert.Equal(a, b);
            Assert.True(Gym.Make(id).ObservationSpace.Contains(a), $"{id} start {string.Join(", ", a)} is outside its observation space");
        }
        var s = new double[4];
        var cp = new CartPole();
        for (ulong seed = 0; seed < 50; seed++)
        {
            cp.Reset(seed);
            cp.GetState(s);
            Assert.All(s, v => Assert.InRange(v, -0.05, 0.05));
        }
    }

    [Fact]
    public void Bad_actions_and_unknown_ids_are_rejected_with_what_was_expected()
    {
        var cp = new CartPole();
        cp.Reset(seed: 0);
        Assert.Contains("0..1", Assert.Throws<ArgumentOutOfRangeException>(() => cp.Step(2)).Message);
        var p = new Pendulum();
        p.Reset(seed: 0);
        Assert.Contains("1 element", Assert.Throws<ArgumentException>(() => p.Step([1f, 2f])).Message);
        Assert.Contains("CartPole-v1", Assert.Throws<ArgumentException>(() => Gym.Make("CartPole-v9")).Message);
        Assert.Throws<InvalidOperationException>(() => new MountainCar().Step(0));
    }

    [Fact]
    public void A_vector_env_resets_finished_copies_in_the_same_step_and_keeps_their_final_observation()
    {
        var vec = Gym.MakeVector("CartPole-v1", 4);
        vec.Reset(seed: 10);
        var single = new CartPole();
        single.Reset(seed: 12);
        Assert.Equal(single.Reset(seed: 12), vec.Observations.AsSpan(8, 4).ToArray());

        var actions = new int[4]; // always push left: every pole falls within a few dozen steps
        var ended = new bool[4];
        for (var t = 0; t < 200 && ended.Contains(false); t++)
        {
            vec.Step(actions);
            for (var i = 0; i < 4; i++)
            {
                if (!vec.Terminated[i]) continue;
                ended[i] = true;
                var final = vec.FinalObservations.AsSpan(i * 4, 4);
                Assert.True(Math.Abs(final[2]) > CartPole.ThetaThresholdRadians || Math.Abs(final[0]) > CartPole.XThreshold);
                Assert.All(vec.Observations.AsSpan(i * 4, 4).ToArray(), v => Assert.InRange(v, -0.05f, 0.05f));
            }
        }
        Assert.DoesNotContain(false, ended);
    }

    [Theory]
    [InlineData("Acrobot-v1")]
    [InlineData("MountainCarContinuous-v0")]
    public void Stepping_on_several_threads_gives_the_same_results_as_one(string id)
    {
        var one = Gym.MakeVector(id, 37, threads: 1);
        var three = Gym.MakeVector(id, 37, threads: 3);
        Assert.Equal(3, three.Threads);
        one.Reset(seed: 5);
        three.Reset(seed: 5);
        var rng = new Rng(6);
        for (var t = 0; t < 300; t++)
        {
            if (one.SingleActionSpace is Discrete d)
            {
                var actions = Enumerable.Range(0, 37).Select(_ => d.Sample(rng)).ToArray();
                one.Step(actions);
                three.Step(actions);
            }
            else
            {
                var actions = Enumerable.Range(0, 37).Select(_ => rng.Uniform(-1, 1)).ToArray();
                one.Step(actions.AsSpan());
                three.Step(actions.AsSpan());
            }
            Assert.Equal(one.Observations, three.Observations);
            Assert.Equal(one.Rewards, three.Rewards);
            Assert.Equal(one.Terminated, three.Terminated);
            Assert.Equal(one.Truncated, three.Truncated);
        }
    }

    [Fact]
    public void A_vector_of_continuous_envs_takes_a_flat_action_array()
    {
        var vec = Gym.MakeVector("Pendulum-v1", 3);
        vec.Reset(seed: 1);
        vec.Step(new float[3]);
        Assert.All(vec.Rewards, r => Assert.True(r <= 0));
        Assert.Throws<ArgumentException>(() => vec.Step(new float[2]));
        Assert.Throws<ArgumentException>(() => vec.Step(new int[3]));
    }

    [Fact]
    public void Spaces_sample_inside_themselves()
    {
        var rng = new Rng(0);
        foreach (var id in Gym.Ids)
        {
            var env = Gym.Make(id);
            if (env.ActionSpace is Box box)
                Assert.True(box.Contains(box.Sample(rng)));
            else
                Assert.True(((Discrete)env.ActionSpace).Contains(((Discrete)env.ActionSpace).Sample(rng)));
        }
    }
}
