using System.Text.Json.Nodes;

namespace RaySharp.Tune.Tests;

public sealed class SearcherTests
{
    private static TrialResult Result(string id, double value, string metric = "loss") =>
        new(id, 1, new Dictionary<string, double> { [metric] = value });

    /// <summary>Runs <paramref name="trials"/> sequential trials and returns the best value.</summary>
    private static double Minimise(ISearcher searcher, SearchSpace space, Func<TrialConfig, double> f, int trials)
    {
        searcher.Initialize(space, "loss", TuneMode.Min);
        var best = double.PositiveInfinity;
        for (var i = 0; i < trials; i++)
        {
            var id = "t" + i;
            var value = f(searcher.Suggest(id).Config!);
            best = Math.Min(best, value);
            searcher.OnTrialComplete(id, Result(id, value), failed: false);
        }
        return best;
    }

    private static SearchSpace Bowl() => new()
    {
        ["x"] = Space.Uniform(-5, 5),
        ["y"] = Space.LogUniform(1e-3, 10),
        ["act"] = Space.Choice("relu", "tanh", "gelu"),
        ["n"] = Space.Int(1, 20),
    };

    // Minimum 0 at x = 1.5, y = 0.1, act = tanh, n = 7.
    private static double BowlValue(TrialConfig c) =>
        Math.Pow(c.Get<double>("x") - 1.5, 2)
        + Math.Pow(Math.Log10(c.Get<double>("y")) + 1, 2)
        + (c.Get<string>("act") == "tanh" ? 0 : 1)
        + Math.Pow((c.Get<int>("n") - 7) / 5.0, 2);

    [Fact]
    public void Random_search_expands_every_grid_point_num_samples_times()
    {
        var searcher = new RandomSearcher(3);
        searcher.Initialize(new SearchSpace { ["a"] = Space.Grid(1, 2, 3), ["b"] = Space.Grid("x", "y"), ["c"] = Space.Uniform(0, 1) }, "loss", TuneMode.Min);
        Assert.Equal(6, searcher.GridSize);
        var configs = Enumerable.Range(0, 12).Select(i => searcher.Suggest("t" + i).Config!).ToArray();
        var points = configs.GroupBy(c => (c.Get<int>("a"), c.Get<string>("b"))).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(6, points.Count);
        Assert.All(points.Values, n => Assert.Equal(2, n));
        Assert.Equal(12, configs.Select(c => c.Get<double>("c")).Distinct().Count());
    }

    [Fact]
    public void Model_based_searchers_refuse_grid_axes_with_a_pointer_to_choice()
    {
        var space = new SearchSpace { ["a"] = Space.Grid(1, 2) };
        var e = Assert.Throws<ArgumentException>(() => new TpeSearcher().Initialize(space, "loss", TuneMode.Min));
        Assert.Contains("Space.Choice", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new GpSearcher().Initialize(space, "loss", TuneMode.Min));
        Assert.Throws<ArgumentException>(() => new TpeSearcher().Initialize(Bowl(), "loss", (TuneMode)2));
    }

    [Fact]
    public void Tpe_finds_the_known_optimum_of_a_mixed_space_far_better_than_random()
    {
        var tpe = Minimise(new TpeSearcher(new TpeOptions { Seed = 1 }), Bowl(), BowlValue, 120);
        var random = Minimise(new RandomSearcher(1), Bowl(), BowlValue, 120);
        Assert.True(tpe < 0.05, $"TPE's best after 120 trials was {tpe}, expected < 0.05 (optimum 0)");
        Assert.True(tpe < random, $"TPE {tpe} should beat random {random}");
    }

    [Fact]
    public void Gp_finds_the_known_optimum_of_a_mixed_space()
    {
        var gp = Minimise(new GpSearcher(new GpOptions { Seed = 1, Candidates = 300 }), Bowl(), BowlValue, 50);
        var random = Minimise(new RandomSearcher(1), Bowl(), BowlValue, 50);
        Assert.True(gp < 0.1, $"GP's best after 50 trials was {gp}, expected < 0.1 (optimum 0)");
        Assert.True(gp < random / 3, $"GP {gp} should beat random {random} by far");
    }

    [Fact]
    public void Gp_with_an_rbf_kernel_maximises_a_smooth_function()
    {
        var gp = new GpSearcher(new GpOptions { Seed = 2, Kernel = GpKernel.Rbf, Candidates = 300 });
        gp.Initialize(new SearchSpace { ["x"] = Space.Uniform(0, 1) }, "score", TuneMode.Max);
        var best = double.NegativeInfinity;
        for (var i = 0; i < 20; i++)
        {
            var x = gp.Suggest("t" + i).Config!.Get<double>("x");
            var score = Math.Sin(3 * x) - x * x; // maximum ≈ 0.5914 near x = 0.4496
            best = Math.Max(best, score);
            gp.OnTrialComplete("t" + i, Result("t" + i, score, "score"), failed: false);
        }
        Assert.True(best > 0.59, $"best {best}");
    }

    [Fact]
    public void The_gaussian_process_interpolates_noise_free_data_and_is_uncertain_far_from_it()
    {
        double[][] x = [[0.1], [0.4], [0.7], [0.9]];
        double[] y = [1.0, 0.2, 0.5, 1.5];
        var gp = new GaussianProcess(x, y, GpKernel.Matern52);
        gp.Fit();
        var (mean, sd) = gp.Predict([0.4]);
        var yMean = y.Average();
        var ySd = Math.Sqrt(y.Sum(v => (v - yMean) * (v - yMean)) / y.Length);
        Assert.Equal(0.2, mean * ySd + yMean, 1);
        Assert.True(sd < gp.Predict([0.25]).Sd);
    }

    [Fact]
    public void Cholesky_solves_a_symmetric_positive_definite_system()
    {
        double[] a = [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3];
        double[] b = [1, 2, 3];
        var l = (double[])a.Clone();
        Assert.True(GaussianProcess.Cholesky(l, 3));
        var x = GaussianProcess.Solve(l, 3, b);
        for (var i = 0; i < 3; i++)
            Assert.Equal(b[i], a[i * 3] * x[0] + a[i * 3 + 1] * x[1] + a[i * 3 + 2] * x[2], 10);
        Assert.False(GaussianProcess.Cholesky([1, 2, 2, 1], 2));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    [InlineData("gp")]
    public void A_restored_searcher_continues_with_exactly_the_suggestions_of_the_original(string kind)
    {
        ISearcher Create() => kind switch
        {
            "random" => new RandomSearcher(5),
            "tpe" => new TpeSearcher(new TpeOptions { Seed = 5 }),
            _ => new GpSearcher(new GpOptions { Seed = 5, Candidates = 100, LocalSteps = 5 }),
        };
        var original = Create();
        original.Initialize(Bowl(), "loss", TuneMode.Min);
        for (var i = 0; i < 14; i++)
        {
            var c = original.Suggest("t" + i).Config!;
            if (i < 13)
                original.OnTrialComplete("t" + i, Result("t" + i, BowlValue(c)), failed: false);
        }
        var saved = JsonNode.Parse(original.SaveState().ToJsonString())!.AsObject(); // through text, as on disk
        var restored = Create();
        restored.Initialize(Bowl(), "loss", TuneMode.Min);
        restored.RestoreState(saved);
        restored.OnTrialComplete("t13", Result("t13", 0.5), failed: false);
        original.OnTrialComplete("t13", Result("t13", 0.5), failed: false);
        for (var i = 14; i < 18; i++)
        {
            var a = original.Suggest("t" + i).Config!;
            var b = restored.Suggest("t" + i).Config!;
            Assert.Equal(a.ToString(), b.ToString());
            original.OnTrialComplete("t" + i, Result("t" + i, BowlValue(a)), failed: false);
            restored.OnTrialComplete("t" + i, Result("t" + i, BowlValue(b)), failed: false);
        }
    }

    [Fact]
    public void Restoring_state_from_another_space_fails_clearly()
    {
        var tpe = new TpeSearcher();
        tpe.Initialize(Bowl(), "loss", TuneMode.Min);
        tpe.Suggest("t0");
        var other = new TpeSearcher();
        other.Initialize(new SearchSpace { ["x"] = Space.Uniform(0, 1) }, "loss", TuneMode.Min);
        var e = Assert.Throws<InvalidDataException>(() => other.RestoreState(tpe.SaveState()));
        Assert.Contains("coordinates", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => other.RestoreState(new JsonObject()));
    }

    [Fact]
    public void Failed_trials_and_trials_without_the_metric_are_not_learned_from()
    {
        var tpe = new TpeSearcher();
        tpe.Initialize(Bowl(), "loss", TuneMode.Min);
        tpe.Suggest("a");
        tpe.Suggest("b");
        tpe.Suggest("c");
        tpe.OnTrialComplete("a", Result("a", 1), failed: true);
        tpe.OnTrialComplete("b", Result("b", 1, "other"), failed: false);
        tpe.OnTrialComplete("c", Result("c", 2), failed: false);
        Assert.Single(tpe.History.Observed);
    }

    [Fact]
    public void A_concurrency_limiter_waits_while_its_limit_of_live_trials_is_reached()
    {
        var limiter = new ConcurrencyLimiter(new RandomSearcher(), 2);
        limiter.Initialize(Bowl(), "loss", TuneMode.Min);
        Assert.Equal(SuggestionKind.Config, limiter.Suggest("a").Kind);
        Assert.Equal(SuggestionKind.Config, limiter.Suggest("b").Kind);
        Assert.Equal(SuggestionKind.Wait, limiter.Suggest("c").Kind);
        limiter.OnTrialComplete("a", Result("a", 1), failed: false);
        Assert.Equal(SuggestionKind.Config, limiter.Suggest("c").Kind);
        var restored = new ConcurrencyLimiter(new RandomSearcher(), 2);
        restored.Initialize(Bowl(), "loss", TuneMode.Min);
        restored.RestoreState(JsonNode.Parse(limiter.SaveState().ToJsonString())!.AsObject());
        Assert.Equal(2, restored.Live);
        Assert.Equal(SuggestionKind.Wait, restored.Suggest("d").Kind);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConcurrencyLimiter(new RandomSearcher(), 0));
    }

    [Fact]
    public void A_repeater_runs_each_config_n_times_and_teaches_the_inner_searcher_their_mean()
    {
        var inner = new TpeSearcher(new TpeOptions { Seed = 3 });
        var repeater = new Repeater(inner, 3);
        repeater.Initialize(Bowl(), "loss", TuneMode.Min);
        var configs = Enumerable.Range(0, 6).Select(i => repeater.Suggest("t" + i).Config!.ToString()).ToArray();
        Assert.Single(configs.Take(3).Distinct());
        Assert.Single(configs.Skip(3).Distinct());
        Assert.NotEqual(configs[0], configs[3]);

        repeater.OnTrialComplete("t0", Result("t0", 1), failed: false);
        repeater.OnTrialComplete("t1", Result("t1", 2), failed: false);
        Assert.Empty(inner.History.Observed);
        // State saved mid-group restores the group.
        var restoredInner = new TpeSearcher(new TpeOptions { Seed = 3 });
        var restored = new Repeater(restoredInner, 3);
        restored.Initialize(Bowl(), "loss", TuneMode.Min);
        restored.RestoreState(JsonNode.Parse(repeater.SaveState().ToJsonString())!.AsObject());
        repeater.OnTrialComplete("t2", Result("t2", 6), failed: false);
        restored.OnTrialComplete("t2", Result("t2", 6), failed: false);
        Assert.Equal(3.0, Assert.Single(inner.History.Observed).Loss);
        Assert.Equal(3.0, Assert.Single(restoredInner.History.Observed).Loss);
        Assert.Equal(restored.Suggest("t6").Config!.ToString(), repeater.Suggest("t6").Config!.ToString());
    }
}
