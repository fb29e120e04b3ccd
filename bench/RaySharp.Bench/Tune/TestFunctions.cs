using RaySharp.Tune;

namespace RaySharp.Bench.Tune;

/// <summary>Standard global-optimisation test functions with known minima (Dixon–Szegő set).</summary>
internal static class TestFunctions
{
    /// <summary>Branin–Hoo on x1 ∈ [−5, 10], x2 ∈ [0, 15]; minimum 0.397887 at three points.</summary>
    public const double BraninMinimum = 0.397887;

    /// <summary>Hartmann 6-D on [0, 1]⁶; minimum −3.32237.</summary>
    public const double Hartmann6Minimum = -3.32237;

    private static readonly double[] HartmannAlpha = [1.0, 1.2, 3.0, 3.2];

    private static readonly double[,] HartmannA =
    {
        { 10, 3, 17, 3.5, 1.7, 8 },
        { 0.05, 10, 17, 0.1, 8, 14 },
        { 3, 3.5, 1.7, 10, 17, 8 },
        { 17, 8, 0.05, 10, 0.1, 14 },
    };

    private static readonly double[,] HartmannP =
    {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 },
        { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 },
        { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };

    public static SearchSpace BraninSpace() => new()
    {
        ["x1"] = Space.Uniform(-5, 10),
        ["x2"] = Space.Uniform(0, 15),
    };

    public static double Branin(TrialConfig c) => Branin(c.Get<double>("x1"), c.Get<double>("x2"));

    public static double Branin(double x1, double x2)
    {
        const double b = 5.1 / (4 * Math.PI * Math.PI), cc = 5 / Math.PI, r = 6, s = 10, t = 1 / (8 * Math.PI);
        var u = x2 - b * x1 * x1 + cc * x1 - r;
        return u * u + s * (1 - t) * Math.Cos(x1) + s;
    }

    public static SearchSpace Hartmann6Space()
    {
        var space = new SearchSpace();
        for (var j = 0; j < 6; j++)
            space.Add("x" + j, Space.Uniform(0, 1));
        return space;
    }

    public static double Hartmann6(TrialConfig c) => Hartmann6(Enumerable.Range(0, 6).Select(j => c.Get<double>("x" + j)).ToArray());

    public static double Hartmann6(double[] x)
    {
        var sum = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < 6; j++)
            {
                var d = x[j] - HartmannP[i, j];
                inner += HartmannA[i, j] * d * d;
            }
            sum += HartmannAlpha[i] * Math.Exp(-inner);
        }
        return -sum;
    }
}
