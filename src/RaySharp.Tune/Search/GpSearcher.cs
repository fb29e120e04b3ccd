using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>
/// Bayesian optimisation with a Gaussian process and expected improvement. Inputs are the unit axes of
/// numeric ranges (log ranges on their log axis; quantised values at their rounded position) and a
/// one-hot block per choice. After <see cref="GpOptions.StartupTrials"/> random trials, each suggestion
/// fits the GP (hyperparameters by marginal likelihood), scores random candidates and perturbations of
/// the best points by expected improvement, refines the best few by local search, and returns the
/// winner. Trials still running count as observations at the mean loss ("constant liar"), so parallel
/// suggestions spread out.
/// </summary>
public sealed class GpSearcher : ISearcher
{
    private readonly GpOptions _options;
    private readonly ModelBasedSearch _search;

    /// <summary>Creates a GP searcher.</summary>
    public GpSearcher(GpOptions? options = null)
    {
        _options = options ?? new GpOptions();
        _options.Validate();
        _search = new ModelBasedSearch(nameof(GpSearcher), _options.StartupTrials, _options.Seed);
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

    private double[] ProposePoint()
    {
        var observed = _search.History.Observed;
        var lie = observed.Average(o => o.Loss);
        var points = observed.Select(o => o.Point).Concat(_search.History.Pending).ToArray();
        var losses = observed.Select(o => o.Loss).Concat(_search.History.Pending.Select(_ => lie)).ToArray();
        var gp = new GaussianProcess(points.Select(Features).ToArray(), losses, _options.Kernel);
        gp.Fit();

        double Score(double[] point) => gp.ExpectedImprovement(Features(point), _options.Xi);

        // Candidates: uniform points, plus Gaussian perturbations of the best observed points.
        var scored = new List<(double[] Point, double Ei)>(_options.Candidates + 100);
        for (var i = 0; i < _options.Candidates; i++)
        {
            var p = _search.Encoding.SamplePoint(_search.Random);
            scored.Add((p, Score(p)));
        }
        foreach (var (bestPoint, _) in observed.OrderBy(o => o.Loss).Take(5))
        {
            for (var i = 0; i < 20; i++)
            {
                var p = Perturb(bestPoint, 0.05);
                scored.Add((p, Score(p)));
            }
        }

        // Local refinement of the best few: random steps with a shrinking radius, keep improvements.
        var best = scored.OrderByDescending(s => s.Ei).Take(_options.LocalStarts).ToList();
        var winner = best[0];
        foreach (var start in best)
        {
            var (current, ei) = start;
            var step = 0.05;
            for (var i = 0; i < _options.LocalSteps; i++)
            {
                var next = Perturb(current, step);
                var nextEi = Score(next);
                if (nextEi > ei)
                    (current, ei) = (next, nextEi);
                else
                    step = Math.Max(step * 0.7, 1e-4);
            }
            if (ei > winner.Ei)
                winner = (current, ei);
        }
        return winner.Point;
    }

    /// <summary>Moves numeric coordinates by N(0, step) (clipped); changes each choice with probability 0.1.</summary>
    private double[] Perturb(double[] point, double step)
    {
        var dims = _search.Encoding.Dimensions;
        var next = (double[])point.Clone();
        for (var d = 0; d < dims.Count; d++)
        {
            if (dims[d].Categorical is { } c)
            {
                if (_search.Random.NextDouble() < 0.1)
                    next[d] = _search.Random.Next(c.Values.Count);
            }
            else
            {
                next[d] = Math.Clamp(point[d] + step * _search.Random.NextGaussian(), 0, 1);
            }
        }
        return next;
    }

    /// <summary>GP input of a point: unit coordinates, one-hot blocks for choices (rounded as the domain rounds).</summary>
    private double[] Features(double[] point)
    {
        var dims = _search.Encoding.Dimensions;
        var features = new List<double>(point.Length + 4);
        for (var d = 0; d < dims.Count; d++)
        {
            if (dims[d].Categorical is { } c)
            {
                for (var k = 0; k < c.Values.Count; k++)
                    features.Add(k == (int)point[d] ? 1 : 0);
            }
            else if (dims[d].Numeric is { IsQuantised: true } numeric)
            {
                features.Add(numeric.ToUnit(numeric.FromUnit(point[d])));
            }
            else
            {
                features.Add(point[d]);
            }
        }
        return [.. features];
    }
}

/// <summary>Settings of <see cref="GpSearcher"/>.</summary>
public sealed class GpOptions
{
    /// <summary>Random trials before the model is used. Default 10.</summary>
    public int StartupTrials { get; init; } = 10;

    /// <summary>Covariance function. Default Matérn 5/2.</summary>
    public GpKernel Kernel { get; init; } = GpKernel.Matern52;

    /// <summary>Exploration margin of expected improvement, in standard deviations of the loss. Default 0.01.</summary>
    public double Xi { get; init; } = 0.01;

    /// <summary>Random candidates scored per suggestion. Default 1000.</summary>
    public int Candidates { get; init; } = 1000;

    /// <summary>Best candidates refined by local search. Default 5.</summary>
    public int LocalStarts { get; init; } = 5;

    /// <summary>Local-search steps per refined candidate. Default 30.</summary>
    public int LocalSteps { get; init; } = 30;

    /// <summary>Seed of all random draws. Default 0.</summary>
    public int Seed { get; init; }

    internal void Validate()
    {
        if (StartupTrials < 2)
            throw new ArgumentException($"GP search needs at least 2 startup trials to fit a model, got {StartupTrials}.");
        if (!Enum.IsDefined(Kernel))
            throw new ArgumentException($"Unknown GP kernel {(int)Kernel}; use GpKernel.Matern52 or GpKernel.Rbf.");
        if (!(Xi >= 0))
            throw new ArgumentException($"The EI margin xi must be ≥ 0, got {Xi}.");
        if (Candidates < 1 || LocalStarts < 1 || LocalSteps < 0)
            throw new ArgumentException("GP search needs ≥ 1 candidate, ≥ 1 local start and ≥ 0 local steps.");
    }
}
