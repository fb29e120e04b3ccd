using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class OptimizerStateTests
{
    private static readonly Tensor Inputs = GradCheck.Random(100, 16, 4);
    private static readonly Tensor Targets = GradCheck.Random(101, 16, 2);

    private static void TrainStep(Module net, Optimizer opt, LrSchedule? schedule)
    {
        opt.ZeroGrad();
        Loss.Mse(net.Forward(Inputs), Targets).Backward();
        opt.Step();
        schedule?.Step();
    }

    public static TheoryData<string> Optimisers() => ["adam", "adamw", "sgd-momentum", "sgd-nesterov"];

    private static Optimizer Make(string kind, Module net) => kind switch
    {
        "adam" => new Adam(net.Parameters(), 0.01f),
        "adamw" => new AdamW(net.Parameters(), 0.01f, weightDecay: 0.1f),
        "sgd-momentum" => new Sgd(net.Parameters(), 0.05f, momentum: 0.9f, weightDecay: 0.01f),
        _ => new Sgd(net.Parameters(), 0.05f, momentum: 0.8f, nesterov: true),
    };

    [Theory]
    [MemberData(nameof(Optimisers))]
    public void A_checkpoint_round_trip_gives_an_identical_next_step(string kind)
    {
        var net = new Sequential(new Linear(4, 8, rng: new Rng(1)), new BatchNorm1d(8), new ActivationLayer(Activation.Tanh), new Linear(8, 2, rng: new Rng(2)));
        var opt = Make(kind, net);
        var schedule = new CosineAnnealingLr(opt, tMax: 10, etaMin: 1e-4f);
        for (var i = 0; i < 3; i++) TrainStep(net, opt, schedule);
        var bytes = TrainingCheckpoint.ToBytes(net, opt, schedule, step: 3);
        TrainStep(net, opt, schedule);
        var expected = net.StateTensors().Select(t => t.Value.ToArray()).ToArray();

        // A fresh, differently initialised run restored from the checkpoint takes exactly the same step.
        var net2 = new Sequential(new Linear(4, 8, rng: new Rng(7)), new BatchNorm1d(8), new ActivationLayer(Activation.Tanh), new Linear(8, 2, rng: new Rng(8)));
        var opt2 = Make(kind, net2);
        var schedule2 = new CosineAnnealingLr(opt2, tMax: 10, etaMin: 1e-4f);
        Assert.Equal(3, TrainingCheckpoint.Load(bytes, net2, opt2, schedule2));
        Assert.Equal(schedule.LearningRateAt(3), opt2.LearningRate);
        TrainStep(net2, opt2, schedule2);
        var actual = net2.StateTensors().Select(t => t.Value.ToArray()).ToArray();
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i]);
        Assert.Equal(opt.LearningRate, opt2.LearningRate);
    }

    [Fact]
    public void Without_the_optimiser_state_the_next_step_differs()
    {
        // The round trip above would pass vacuously if Adam's moments did not matter.
        var net = new Linear(4, 2, rng: new Rng(1));
        var opt = new Adam(net.Parameters(), 0.01f);
        for (var i = 0; i < 3; i++) TrainStep(net, opt, null);
        var weights = TrainingCheckpoint.ToBytes(net);
        TrainStep(net, opt, null);
        var net2 = new Linear(4, 2, rng: new Rng(5));
        TrainingCheckpoint.Load(weights, net2);
        TrainStep(net2, new Adam(net2.Parameters(), 0.01f), null);
        Assert.NotEqual(net.Weight.ToArray(), net2.Weight.ToArray());
    }

    [Fact]
    public void Adam_state_holds_moments_and_step_count()
    {
        var net = new Linear(4, 2, rng: new Rng(1));
        var opt = new Adam(net.Parameters(), 0.01f);
        TrainStep(net, opt, null);
        Assert.Equal(new[] { "0.exp_avg", "0.exp_avg_sq", "1.exp_avg", "1.exp_avg_sq" }, opt.StateTensors().Select(t => t.Name));
        Assert.Equal("1", opt.StateValues()["step"]);
        using var stream = new MemoryStream();
        opt.SaveState(stream);
        var other = new Adam(net.Parameters(), 0.5f);
        stream.Position = 0;
        other.LoadState(stream);
        Assert.Equal(1, other.StepCount);
        Assert.Equal(0.01f, other.LearningRate);
        Assert.Equal(opt.StateTensors()[1].Value.ToArray(), other.StateTensors()[1].Value.ToArray());
    }

    [Fact]
    public void Loading_mismatched_optimiser_state_says_what_differs()
    {
        var net = new Linear(3, 2, rng: new Rng(1));
        var adam = new Adam(net.Parameters());
        var e = Assert.Throws<InvalidDataException>(() => new Sgd(net.Parameters(), 0.1f).LoadState(adam.StateTensors().ToDictionary(t => t.Name, t => t.Value), adam.StateValues()));
        Assert.Contains("for Adam, not Sgd", e.Message);
        var other = new Adam(new Linear(3, 4, rng: new Rng(1)).Parameters());
        var s = Assert.Throws<InvalidDataException>(() => other.LoadState(adam.StateTensors().ToDictionary(t => t.Name, t => t.Value), adam.StateValues()));
        Assert.Contains("[2, 3]", s.Message);
        var c = Assert.Throws<InvalidDataException>(() => new Adam([net.Weight]).LoadState(adam.StateTensors().ToDictionary(t => t.Name, t => t.Value), adam.StateValues()));
        Assert.Contains("2 parameters", c.Message);
        var bytes = TrainingCheckpoint.ToBytes(net);
        var m = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(bytes, net, adam));
        Assert.Contains("no optimiser state", m.Message);
        var f = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(Safetensors.ToBytes(net.NamedParameters()), net));
        Assert.Contains("not a RaySharp.Nn training checkpoint", f.Message);
    }

    [Fact]
    public void Checkpoints_round_trip_through_files_and_streams()
    {
        var net = new Linear(3, 2, rng: new Rng(1));
        var path = Path.Combine(Path.GetTempPath(), $"raysharp-nn-{Guid.NewGuid():N}.safetensors");
        try
        {
            TrainingCheckpoint.Save(path, net, step: 42);
            var copy = new Linear(3, 2, rng: new Rng(2));
            using var file = File.OpenRead(path);
            Assert.Equal(42, TrainingCheckpoint.Load(file, copy));
            Assert.Equal(net.Weight.ToArray(), copy.Weight.ToArray());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
