using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Tree-structured Parzen estimator (Bergstra, Bardenet, Bengio, Kégl, NeurIPS 2011). After
/// <see cref="TpeOptions.StartupTrials"/> random trials, the finished trials are split at the
/// <see cref="TpeOptions.Gamma"/> quantile of the loss into good and bad; each dimension gets a Parzen
/// density l(x) over the good points and g(x) over the bad ones (truncated Gaussians on the unit axis
/// of a numeric range — log ranges on their log axis, quantised ranges as the probability of the
/// rounding bucket — and smoothed category frequencies for choices). Candidates are drawn from l and
/// the one with the largest l(x)/g(x), which maximises expected improvement, is suggested.
/// </summary>
public sealed class TpeSearcher : ISearcher
{
    private readonly TpeOptions _options;
    private readonly ModelBasedSearch _search;

    /// <summary>Creates a TPE searcher.</summary>
    public TpeSearcher(TpeOptions? options = null)
    {
        _options = options ?? new TpeOptions();
        _options.Validate();
        _search = new ModelBasedSearch(nameof(TpeSearcher), _options.StartupTrials, _options.Seed);
    }

    /// <inheritdoc />
    public void Initialize(SearchSpace space, string metric, TuneMode mode) => _search.Initialize(space, metric, mode);

    /// <inheritdoc />
    public Suggestion Suggest(string trialId) => _search.Suggest(trialId, ProposePoint);

    /// <inheritdoc />
    public void OnTrialComplete(string trialId, TrialResult? lastResult, bool failed) =>
        _search.OnTrialComplete(trialId, lastResult, failed);

    /// <inheritdoc />
    public JsonObject SaveState() => _search.SaveState();

    /// <inheritdoc />
    public void RestoreState(JsonObject state) => _search.RestoreState(state);

    internal SearchHistory History => _search.History;

    private double[] ProposePoint()
    {
        var sorted = _search.History.Observed.OrderBy(o => o.Loss).ToArray();
        var nGood = Math.Clamp((int)Math.Ceiling(_options.Gamma * sorted.Length), 1, sorted.Length - 1);
        var good = sorted[..nGood];
        var bad = sorted[nGood..];

        var dims = _search.Encoding.Dimensions;
        var estimators = new (IParzen Good, IParzen Bad)[dims.Count];
        for (var d = 0; d < dims.Count; d++)
        {
            var goodValues = good.Select(o => o.Point[d]).ToArray();
            var badValues = bad.Select(o => o.Point[d]).ToArray();
            estimators[d] = dims[d].Categorical is { } c
                ? (new CategoricalParzen(goodValues, c.Values.Count, _options.PriorWeight),
                   new CategoricalParzen(badValues, c.Values.Count, _options.PriorWeight))
                : (new NumericParzen(goodValues, _options.PriorWeight), new NumericParzen(badValues, _options.PriorWeight));
        }

        double[]? best = null;
        var bestScore = double.NegativeInfinity;
        for (var i = 0; i < _options.Candidates; i++)
        {
            var candidate = new double[dims.Count];
            var score = 0.0;
            for (var d = 0; d < dims.Count; d++)
            {
                var (l, g) = estimators[d];
                candidate[d] = l.Sample(_search.Random);
                var bucket = dims[d].Numeric is { IsQuantised: true } numeric
                    ? numeric.UnitBucket(numeric.FromUnit(candidate[d]))
                    : null;
                score += l.LogDensity(candidate[d], bucket) - g.LogDensity(candidate[d], bucket);
            }
            if (score > bestScore)
                (best, bestScore) = (candidate, score);
        }
        return best!;
    }

    private interface IParzen
    {
        double Sample(SeededRandom random);

        double LogDensity(double x, (double Low, double High)? bucket);
    }

    /// <summary>
    /// A mixture of Gaussians truncated to [0, 1], one per observation plus a broad prior at the centre;
    /// each bandwidth is the larger gap to its sorted neighbours, clipped (hyperopt's adaptive Parzen).
    /// </summary>
    private sealed class NumericParzen : IParzen
    {
        private readonly double[] _mu, _sigma, _weight, _mass;

        public NumericParzen(double[] observations, double priorWeight)
        {
            var mus = observations.Append(0.5).Order().ToArray();
            var priorIndex = Array.IndexOf(mus, 0.5);
            var n = mus.Length;
            _mu = mus;
            _sigma = new double[n];
            _weight = new double[n];
            _mass = new double[n];
            var minSigma = 1.0 / Math.Min(100, n + 1);
            for (var i = 0; i < n; i++)
            {
                var left = i > 0 ? mus[i] - mus[i - 1] : mus[i];
                var right = i < n - 1 ? mus[i + 1] - mus[i] : 1 - mus[i];
                _sigma[i] = Math.Clamp(Math.Max(left, right), minSigma, 1.0);
                _weight[i] = 1;
            }
            _sigma[priorIndex] = 1.0;
            _weight[priorIndex] = priorWeight;
            var total = _weight.Sum();
            for (var i = 0; i < n; i++)
            {
                _weight[i] /= total;
                _mass[i] = Math.Max(1e-12, Stats.NormalCdf((1 - _mu[i]) / _sigma[i]) - Stats.NormalCdf(-_mu[i] / _sigma[i]));
            }
        }

        public double Sample(SeededRandom random)
        {
            var u = random.NextDouble();
            var k = 0;
            for (var acc = _weight[0]; acc < u && k < _weight.Length - 1; acc += _weight[++k])
            {
            }
            for (var attempt = 0; attempt < 32; attempt++)
            {
                var x = _mu[k] + _sigma[k] * random.NextGaussian();
                if (x is >= 0 and <= 1)
                    return x;
            }
            return random.NextDouble();
        }

        public double LogDensity(double x, (double Low, double High)? bucket)
        {
            var p = 0.0;
            for (var i = 0; i < _mu.Length; i++)
            {
                p += bucket is { } b
                    ? _weight[i] * (Stats.NormalCdf((b.High - _mu[i]) / _sigma[i]) - Stats.NormalCdf((b.Low - _mu[i]) / _sigma[i])) / _mass[i]
                    : _weight[i] * Stats.NormalPdf((x - _mu[i]) / _sigma[i]) / (_sigma[i] * _mass[i]);
            }
            return Math.Log(Math.Max(p, 1e-300));
        }
    }

    /// <summary>Category frequencies smoothed by a uniform prior of weight <c>priorWeight</c>.</summary>
    private sealed class CategoricalParzen : IParzen
    {
        private readonly double[] _p;

        public CategoricalParzen(double[] observations, int categories, double priorWeight)
        {
            _p = new double[categories];
            for (var k = 0; k < categories; k++)
                _p[k] = priorWeight / categories;
            foreach (var o in observations)
                _p[(int)o] += 1;
            var total = _p.Sum();
            for (var k = 0; k < categories; k++)
                _p[k] /= total;
        }

        public double Sample(SeededRandom random)
        {
            var u = random.NextDouble();
            var acc = 0.0;
            for (var k = 0; k < _p.Length; k++)
            {
                acc += _p[k];
                if (u < acc)
                    return k;
            }
            return _p.Length - 1;
        }

        public double LogDensity(double x, (double Low, double High)? bucket) => Math.Log(_p[(int)x]);
    }
}

/// <summary>Settings of <see cref="TpeSearcher"/>; defaults follow hyperopt and Optuna.</summary>
public sealed class TpeOptions
{
    /// <summary>Random trials before the model is used. Default 10.</summary>
    public int StartupTrials { get; init; } = 10;

    /// <summary>Fraction of finished trials counted as good. Default 0.25.</summary>
    public double Gamma { get; init; } = 0.25;

    /// <summary>Candidates drawn from l(x) per suggestion. Default 24.</summary>
    public int Candidates { get; init; } = 24;

    /// <summary>Weight of the uniform prior component in each density. Default 1.</summary>
    public double PriorWeight { get; init; } = 1.0;

    /// <summary>Seed of all random draws. Default 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (StartupTrials < 2)
            throw new ArgumentException($"TPE needs at least 2 startup trials to split into good and bad, got {StartupTrials}.");
        if (Gamma is not (> 0 and < 1))
            throw new ArgumentException($"TPE's gamma is a fraction in (0, 1), got {Gamma}.");
        if (Candidates < 1)
            throw new ArgumentException($"TPE needs at least one candidate per suggestion, got {Candidates}.");
        if (!(PriorWeight > 0))
            throw new ArgumentException($"TPE's prior weight must be positive, got {PriorWeight}.");
    }
}
