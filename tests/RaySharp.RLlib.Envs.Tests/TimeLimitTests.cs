using RaySharp.RLlib.Envs;

namespace RaySharp.RLlib.Envs.Tests;

/// <summary>Gymnasium's <c>TimeLimit</c>: truncated = elapsed steps ≥ the limit, whether or not the step also terminated.</summary>
public class TimeLimitTests
{
    [Fact]
    public void A_pole_that_falls_on_the_five_hundredth_step_is_both_terminated_and_truncated()
    {
        var env = new CartPole();
        env.Reset(seed: 0);
        for (var t = 1; t < 500; t++)
        {
            env.SetState([0, 0, 0, 0]); // held upright: the episode runs to the limit without terminating
            var r = env.Step(1);
            Assert.False(r.Terminated || r.Truncated, $"step {t} ended the episode");
        }
        env.SetState([0, 0, CartPole.ThetaThresholdRadians - 1e-4, 1.0]); // falls past twelve degrees in this step
        var last = env.Step(1);
        Assert.True(last.Terminated);
        Assert.True(last.Truncated);
        Assert.Throws<InvalidOperationException>(() => env.Step(1));
    }

    /// <summary>A state each environment leaves for a terminal one in one step with the given action.</summary>
    public static TheoryData<string, double[], double> TerminalSteps => new()
    {
        { "CartPole-v1", [0, 0, CartPole.ThetaThresholdRadians - 1e-4, 1.0], 1 },
        { "MountainCar-v0", [0.49, 0.05], 2 },
        { "MountainCarContinuous-v0", [0.449, 0.05], 1.0 },
        { "Acrobot-v1", [Math.PI, 0, 0, 0], 1 },
    };

    [Theory]
    [MemberData(nameof(TerminalSteps))]
    public void A_restored_episode_that_terminates_on_the_limit_step_is_also_truncated(string id, double[] state, double action)
    {
        var env = Gym.Make(id);
        env.Reset(seed: 3);
        env.SetState(state);
        env.ElapsedSteps = env.MaxEpisodeSteps - 1;
        var r = Step(env, action);
        Assert.True(r.Terminated, $"{id} did not terminate from [{string.Join(", ", state)}]");
        Assert.True(r.Truncated);
        Assert.Equal(env.MaxEpisodeSteps, env.ElapsedSteps);
    }

    [Theory]
    [MemberData(nameof(TerminalSteps))]
    public void The_same_terminal_step_before_the_limit_is_not_truncated(string id, double[] state, double action)
    {
        var env = Gym.Make(id);
        env.Reset(seed: 3);
        env.SetState(state);
        env.ElapsedSteps = env.MaxEpisodeSteps - 2;
        var r = Step(env, action);
        Assert.True(r.Terminated);
        Assert.False(r.Truncated);
    }

    [Fact]
    public void The_elapsed_step_count_can_be_set_to_resume_an_episode_part_way()
    {
        var env = new Pendulum();
        env.Reset(seed: 1);
        env.ElapsedSteps = 150;
        for (var t = 151; t <= 200; t++)
        {
            var r = env.Step([0.0]);
            Assert.Equal(t, env.ElapsedSteps);
            Assert.Equal(t == 200, r.Truncated);
        }
        env.ElapsedSteps = 10; // setting the count does not reopen an ended episode
        Assert.Throws<InvalidOperationException>(() => env.Step([0.0]));
        env.Reset();
        Assert.Equal(0, env.ElapsedSteps);
        Assert.Throws<ArgumentOutOfRangeException>(() => env.ElapsedSteps = -1);
    }

    private static StepResult Step(Env env, double action) => env switch
    {
        DiscreteEnv d => d.Step((int)action),
        ContinuousEnv c => c.Step([action]),
        _ => throw new InvalidOperationException(),
    };
}
