namespace RaySharp.Tune.Tests;

public sealed class SearchSpaceTests
{
    private static TrialConfig[] Sample(SearchSpace space, int n, int seed = 1)
    {
        var searcher = new RandomSearcher(seed);
        searcher.Initialize(space, "loss", TuneMode.Min);
        return Enumerable.Range(0, n).Select(i => searcher.Suggest("t" + i).Config!).ToArray();
    }

    [Fact]
    public void Uniform_values_stay_inside_their_bounds_and_cover_the_range()
    {
        var values = Sample(new SearchSpace { ["x"] = Space.Uniform(-2, 3) }, 2000).Select(c => c.Get<double>("x")).ToArray();
        Assert.All(values, v => Assert.InRange(v, -2, 3));
        Assert.InRange(values.Average(), 0.3, 0.7);
        Assert.True(values.Min() < -1.9 && values.Max() > 2.9);
    }

    [Fact]
    public void Log_uniform_values_are_uniform_in_their_logarithm()
    {
        var values = Sample(new SearchSpace { ["lr"] = Space.LogUniform(1e-4, 1e-0) }, 4000).Select(c => c.Get<double>("lr")).ToArray();
        Assert.All(values, v => Assert.InRange(v, 1e-4, 1));
        var belowMilli = values.Count(v => v < 1e-3) / (double)values.Length;
        Assert.InRange(belowMilli, 0.21, 0.29); // one decade of four
    }

    [Fact]
    public void Quantised_values_are_multiples_of_the_quantum_above_the_lower_bound()
    {
        var values = Sample(new SearchSpace { ["q"] = Space.QUniform(0.5, 2.0, 0.25) }, 500).Select(c => c.Get<double>("q")).ToArray();
        Assert.All(values, v => Assert.Equal(0, Math.Round((v - 0.5) / 0.25, 9) % 1));
        Assert.Equal([0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0], values.Distinct().Order().ToArray());
    }

    [Fact]
    public void Quantised_log_values_are_multiples_of_the_quantum_within_bounds()
    {
        var values = Sample(new SearchSpace { ["q"] = Space.QLogUniform(1, 1000, 10) }, 500).Select(c => c.Get<double>("q")).ToArray();
        Assert.All(values, v => Assert.InRange(v, 1, 1000));
        Assert.All(values, v => Assert.Equal(0, Math.Round((v - 1) / 10, 9) % 1));
    }

    [Fact]
    public void Integer_ranges_include_both_bounds_and_each_value_about_equally()
    {
        var values = Sample(new SearchSpace { ["n"] = Space.Int(1, 4) }, 4000).Select(c => c.Get<int>("n")).ToArray();
        var counts = values.GroupBy(v => v).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal([1, 2, 3, 4], counts.Keys);
        Assert.All(counts.Values, c => Assert.InRange(c, 850, 1150));
        Assert.IsType<int>(Sample(new SearchSpace { ["n"] = Space.Int(1, 4) }, 1)[0]["n"]);
    }

    [Fact]
    public void Stepped_and_log_integer_ranges_respect_their_steps_and_bounds()
    {
        var stepped = Sample(new SearchSpace { ["n"] = Space.QInt(8, 64, 8) }, 300).Select(c => c.Get<int>("n")).Distinct().Order().ToArray();
        Assert.Equal([8, 16, 24, 32, 40, 48, 56, 64], stepped);
        var logs = Sample(new SearchSpace { ["n"] = Space.LogInt(1, 1024) }, 2000).Select(c => c.Get<int>("n")).ToArray();
        Assert.All(logs, v => Assert.InRange(v, 1, 1024));
        Assert.InRange(logs.Count(v => v <= 32) / 2000.0, 0.4, 0.6); // half the decades
    }

    [Fact]
    public void Choices_draw_only_listed_values()
    {
        var values = Sample(new SearchSpace { ["act"] = Space.Choice("relu", "tanh", "gelu") }, 300).Select(c => c.Get<string>("act")).ToHashSet();
        Assert.Equal(new HashSet<string> { "relu", "tanh", "gelu" }, values);
    }

    [Fact]
    public void Nested_spaces_flatten_to_paths_and_sections_read_them_back()
    {
        var space = new SearchSpace
        {
            ["optimizer"] = new SearchSpace { ["lr"] = Space.LogUniform(1e-3, 1e-1), ["momentum"] = 0.9 },
            ["layers"] = Space.Int(1, 3),
        };
        var config = Sample(space, 1)[0];
        Assert.Equal(["optimizer/lr", "optimizer/momentum", "layers"], config.Paths);
        Assert.Equal(0.9, config.Get<double>("optimizer/momentum"));
        var section = config.Section("optimizer");
        Assert.Equal(config.Get<double>("optimizer/lr"), section.Get<double>("lr"));
        Assert.Equal(0.9, config.ToJson()["optimizer"]!["momentum"]!.GetValue<double>());
    }

    [Fact]
    public void Computed_values_read_the_sampled_parameters_and_earlier_computed_ones()
    {
        var space = new SearchSpace
        {
            ["width"] = Space.Int(2, 10),
            ["double_width"] = Space.Computed(c => c.Get<int>("width") * 2),
            ["plus_one"] = Space.Computed(c => c.Get<int>("double_width") + 1),
        };
        foreach (var config in Sample(space, 20))
        {
            Assert.Equal(config.Get<int>("width") * 2, config.Get<int>("double_width"));
            Assert.Equal(config.Get<int>("width") * 2 + 1, config.Get<int>("plus_one"));
        }
    }

    [Fact]
    public void A_computed_value_that_reads_a_later_one_fails_with_a_clear_error()
    {
        var space = new SearchSpace
        {
            ["a"] = Space.Computed(c => c.Get<int>("b") + 1),
            ["b"] = Space.Computed(c => 1),
            ["x"] = Space.Uniform(0, 1),
        };
        var e = Assert.Throws<ArgumentException>(() => Sample(space, 1));
        Assert.Contains("Computed parameter 'a'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_access_converts_numbers_without_loss_and_rejects_the_rest()
    {
        var config = new TrialConfig([new("i", 3), new("d", 2.5), new("s", "x"), new("w", 4.0)]);
        Assert.Equal(3.0, config.Get<double>("i"));
        Assert.Equal(4, config.Get<int>("w"));
        Assert.Throws<InvalidCastException>(() => config.Get<int>("d"));
        var e = Assert.Throws<InvalidCastException>(() => config.Get<double>("s"));
        Assert.Contains("'s'", e.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<KeyNotFoundException>(() => config.Get<double>("lr"));
        Assert.Contains("'lr'", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sampled_double_reads_as_a_float_or_decimal_rounded_to_the_nearest_value()
    {
        var config = Sample(new SearchSpace { ["lr"] = Space.LogUniform(1e-4, 1e-1) }, 1)[0];
        var lr = config.Get<double>("lr");
        Assert.Equal((float)lr, config.Get<float>("lr"));
        Assert.Equal((decimal)lr, config.Get<decimal>("lr"));

        var exact = new TrialConfig([new("d", 0.1), new("i", 7), new("l", 1L << 40), new("m", 2.5m), new("f", 0.5f)]);
        Assert.Equal(0.1f, exact.Get<float>("d"));
        Assert.Equal(7L, exact.Get<long>("i"));
        Assert.Equal(7f, exact.Get<float>("i"));
        Assert.Equal(7m, exact.Get<decimal>("i"));
        Assert.Equal((double)(1L << 40), exact.Get<double>("l"));
        Assert.Equal(2.5, exact.Get<double>("m"));
        Assert.Equal(0.5, exact.Get<double>("f"));
    }

    [Fact]
    public void A_number_read_as_an_integer_type_must_be_whole_and_in_range_never_truncated()
    {
        var config = new TrialConfig([new("whole", 3.0), new("half", 2.5), new("big", 3e10), new("huge", 1e300), new("negative", -1), new("nan", double.NaN), new("m", 2.5m), new("l", 1L << 40)]);
        Assert.Equal(3, config.Get<int>("whole"));
        Assert.Equal(3L, config.Get<long>("whole"));
        Assert.Equal((byte)3, config.Get<byte>("whole"));
        Assert.Equal(30_000_000_000L, config.Get<long>("big"));

        var half = Assert.Throws<InvalidCastException>(() => config.Get<int>("half"));
        Assert.Equal("Parameter 'half' is the Double 2.5, which has a fractional part; Get<Int32> never truncates: read it with Get<Double> and round it yourself (Math.Round) if a whole number is meant.", half.Message);
        Assert.Contains("fractional part", Assert.Throws<InvalidCastException>(() => config.Get<long>("m")).Message, StringComparison.Ordinal);
        Assert.Contains("outside the range of Int32", Assert.Throws<InvalidCastException>(() => config.Get<int>("big")).Message, StringComparison.Ordinal);
        Assert.Contains("outside the range of Int32", Assert.Throws<InvalidCastException>(() => config.Get<int>("l")).Message, StringComparison.Ordinal);
        Assert.Contains("outside the range of Byte", Assert.Throws<InvalidCastException>(() => config.Get<byte>("negative")).Message, StringComparison.Ordinal);
        Assert.Contains("outside the range of Single", Assert.Throws<InvalidCastException>(() => config.Get<float>("huge")).Message, StringComparison.Ordinal);
        Assert.Contains("which no Decimal holds", Assert.Throws<InvalidCastException>(() => config.Get<decimal>("nan")).Message, StringComparison.Ordinal);
        Assert.Contains("which no Int32 holds", Assert.Throws<InvalidCastException>(() => config.Get<int>("nan")).Message, StringComparison.Ordinal);
        Assert.True(float.IsNaN(config.Get<float>("nan"))); // NaN is a float too
    }

    [Fact]
    public void An_empty_search_space_is_rejected_before_any_trial()
    {
        var e = Assert.Throws<ArgumentException>(() => new RandomSearcher().Initialize(new SearchSpace(), "loss", TuneMode.Min));
        Assert.Contains("empty", e.Message, StringComparison.Ordinal);
        var constantsOnly = Assert.Throws<ArgumentException>(() => new TpeSearcher().Initialize(new SearchSpace { ["a"] = 1 }, "loss", TuneMode.Min));
        Assert.Contains("no parameter to search", constantsOnly.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5.0, 1.0)]
    [InlineData(1.0, 1.0)]
    public void Inverted_or_empty_bounds_are_rejected(double low, double high)
    {
        var e = Assert.Throws<ArgumentException>(() => Space.Uniform(low, high));
        Assert.Contains("lower bound below its upper bound", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Space.Int(5, 1));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    public void Log_ranges_need_positive_bounds(double low)
    {
        var e = Assert.Throws<ArgumentException>(() => Space.LogUniform(low, 10));
        Assert.Contains("positive bounds", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Space.LogInt((int)low, 10));
    }

    [Fact]
    public void Bad_quanta_choices_and_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Space.QUniform(0, 1, 0));
        Assert.Throws<ArgumentException>(() => Space.QUniform(0, 1, 2));
        Assert.Throws<ArgumentException>(() => Space.Uniform(0, double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => Space.Choice<int>());
        Assert.Throws<ArgumentException>(() => Space.Grid<int>());
        Assert.Throws<ArgumentException>(() => new SearchSpace { ["a/b"] = 1 });
        Assert.Throws<ArgumentException>(() => new SearchSpace { { "a", 1 }, { "a", 2 } });
    }
}
