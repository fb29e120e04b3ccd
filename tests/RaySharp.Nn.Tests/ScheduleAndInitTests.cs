using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class ScheduleAndInitTests
{
    private static Optimizer Opt(float lr) => new Sgd([new Linear(1, 1, rng: new Rng(1)).Weight], lr);

    /// <summary>Steps the schedule and compares each rate with the closed form.</summary>
    private static void Follows(LrSchedule schedule, Func<int, double> closedForm, int steps)
    {
        Assert.Equal(closedForm(0), schedule.Optimizer.LearningRate, 6);
        for (var t = 1; t <= steps; t++)
        {
            schedule.Step();
            Assert.Equal(closedForm(t), schedule.Optimizer.LearningRate, 6);
        }
    }

    [Fact]
    public void Step_decay_multiplies_by_gamma_every_step_size_steps() =>
        Follows(new StepLr(Opt(0.1f), stepSize: 3, gamma: 0.5f), t => 0.1 * Math.Pow(0.5, t / 3), 10);

    [Fact]
    public void Exponential_decay_multiplies_by_gamma_every_step() =>
        Follows(new ExponentialLr(Opt(0.1f), 0.9f), t => 0.1 * Math.Pow(0.9, t), 10);

    [Fact]
    public void Cosine_annealing_follows_half_a_cosine_to_eta_min() =>
        Follows(new CosineAnnealingLr(Opt(0.1f), tMax: 8, etaMin: 0.001f), t => 0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * t / 8)) / 2, 8);

    [Fact]
    public void Linear_warm_up_ramps_to_the_base_rate_then_stays() =>
        Follows(new LinearLr(Opt(0.1f), startFactor: 0.1f, endFactor: 1f, totalSteps: 4), t => 0.1 * (0.1 + 0.9 * Math.Min(t, 4) / 4.0), 7);

    [Fact]
    public void One_cycle_rises_to_the_peak_then_anneals_below_the_start()
    {
        // PyTorch's two-phase cosine one-cycle: up over pct·T - 1 steps, down to initial/finalDiv at T - 1.
        const double max = 0.5, initial = max / 25, min = initial / 1e4, upEnd = 0.3 * 20 - 1, end = 19;
        static double Anneal(double a, double b, double pct) => b + (a - b) / 2 * (Math.Cos(Math.PI * pct) + 1);
        var schedule = new OneCycleLr(Opt(0.1f), (float)max, totalSteps: 20);
        Follows(schedule, t => t <= upEnd ? Anneal(initial, max, t / upEnd) : Anneal(max, min, (t - upEnd) / (end - upEnd)), 19);
        Assert.Equal(max, schedule.LearningRateAt(5), 6);
        Assert.Equal(min, schedule.LearningRateAt(19), 9);
        schedule.Step();
        Assert.Throws<ArgumentOutOfRangeException>(schedule.Step);
    }

    [Fact]
    public void Bad_schedule_arguments_are_rejected_with_their_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepLr(Opt(0.1f), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialLr(Opt(0.1f), float.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CosineAnnealingLr(Opt(0.1f), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearLr(Opt(0.1f), startFactor: 0f));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new OneCycleLr(Opt(0.1f), 1f, totalSteps: 3));
        Assert.Contains("totalSteps 3", e.Message);
    }

    [Fact]
    public void Schedule_state_restores_the_step_and_the_learning_rate()
    {
        var a = new StepLr(Opt(0.1f), 2, 0.5f);
        for (var i = 0; i < 5; i++) a.Step();
        var b = new StepLr(Opt(0.7f), 2, 0.5f);
        b.LoadState(a.StateValues());
        Assert.Equal(5, b.StepCount);
        Assert.Equal(a.Optimizer.LearningRate, b.Optimizer.LearningRate);
        Assert.Throws<InvalidDataException>(() => new ExponentialLr(Opt(0.1f), 0.5f).LoadState(a.StateValues()));
    }

    [Fact]
    public void Layer_defaults_are_pytorch_kaiming_uniform_with_a_sqrt5()
    {
        var linear = new Linear(50, 40, rng: new Rng(3));
        var bound = 1f / MathF.Sqrt(50);
        Assert.All(linear.Weight.ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.True(linear.Weight.ToArray().Max() > 0.95f * bound);
        var w = Tensor.Zeros(40, 50);
        Init.KaimingUniform(w, new Rng(4), MathF.Sqrt(5));
        Assert.InRange(w.ToArray().Max(), 0.95f * bound, bound);
        var ln = new LayerNorm(5);
        Assert.Equal([1f, 1, 1, 1, 1], ln.Weight.ToArray());
        var bn = new BatchNorm2d(3);
        Assert.Equal([0f, 0, 0], bn.Bias!.ToArray());
        Assert.Equal([1f, 1, 1], bn.RunningVar.ToArray());
    }

    [Fact]
    public void Init_schemes_have_the_published_scales()
    {
        var w = Tensor.Zeros(64, 32, 3, 3);
        Assert.Equal((288, 576), Init.Fans(w));
        Init.KaimingNormal(w, new Rng(5));
        Assert.Equal(Math.Sqrt(2.0 / 288), Std(w), 2);
        Init.XavierNormal(w, new Rng(6));
        Assert.Equal(Math.Sqrt(2.0 / (288 + 576)), Std(w), 2);
        Init.XavierUniform(w, new Rng(7), gain: 2f);
        var bound = 2 * Math.Sqrt(6.0 / (288 + 576));
        Assert.All(w.ToArray(), v => Assert.InRange(v, -bound, bound));
        Init.KaimingUniform(w, new Rng(8));
        Assert.InRange(w.ToArray().Max(), 0.99 * Math.Sqrt(6.0 / 288), Math.Sqrt(6.0 / 288));
        Assert.Throws<ArgumentException>(() => Init.Fans(Tensor.Zeros(3)));
    }

    private static double Std(Tensor t)
    {
        var v = t.ToArray();
        var mean = v.Average();
        return Math.Sqrt(v.Select(x => (x - mean) * (x - mean)).Average());
    }
}
