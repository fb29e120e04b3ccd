namespace RaySharp.Tune;

/// <summary>
/// A Gaussian-process regressor with a Matérn 5/2 or squared-exponential kernel with one length scale
/// per input (ARD), fitted by Cholesky factorisation. Targets are standardised; hyperparameters
/// (length scales and noise) are chosen by log marginal likelihood: a grid over an isotropic length
/// scale and the noise, then passes of per-input scaling.
/// </summary>
internal sealed class GaussianProcess
{
    private static readonly double[] LengthGrid = [0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 2.0];
    private static readonly double[] NoiseGrid = [1e-6, 1e-4, 1e-2, 1e-1];
    private static readonly double[] ArdFactors = [0.5, 2.0];

    private readonly double[][] _x;
    private readonly double[] _y;
    private readonly GpKernel _kernel;
    private double _yMean, _yScale;
    private double[] _lengths = [];
    private double _noise;
    private double[] _chol = [];
    private double[] _alpha = [];

    public GaussianProcess(double[][] x, double[] y, GpKernel kernel)
    {
        if (x.Length == 0 || x.Length != y.Length)
            throw new ArgumentException("A Gaussian process needs one target per input and at least one input.");
        _x = x;
        _y = y;
        _kernel = kernel;
    }

    public int Dimensions => _x[0].Length;

    /// <summary>Best observed target, standardised.</summary>
    public double BestStandardised { get; private set; }

    /// <summary>Chooses hyperparameters by marginal likelihood and factorises.</summary>
    public void Fit()
    {
        var n = _y.Length;
        _yMean = _y.Average();
        var sd = Math.Sqrt(_y.Sum(v => (v - _yMean) * (v - _yMean)) / n);
        _yScale = sd > 1e-12 ? sd : 1;
        var ys = _y.Select(v => (v - _yMean) / _yScale).ToArray();
        BestStandardised = ys.Min();

        var d = Dimensions;
        var best = double.NegativeInfinity;
        double[] bestLengths = [];
        var bestNoise = 0.0;
        foreach (var length in LengthGrid)
        {
            foreach (var noise in NoiseGrid)
            {
                var lengths = Enumerable.Repeat(length, d).ToArray();
                var ll = LogMarginal(lengths, noise, ys);
                if (ll > best)
                    (best, bestLengths, bestNoise) = (ll, lengths, noise);
            }
        }
        // Automatic relevance determination: one pass of per-input scaling of the length scale.
        for (var i = 0; i < d && d > 1; i++)
        {
            foreach (var factor in ArdFactors)
            {
                var lengths = (double[])bestLengths.Clone();
                lengths[i] = Math.Clamp(lengths[i] * factor, 0.02, 10);
                var ll = LogMarginal(lengths, bestNoise, ys);
                if (ll > best)
                    (best, bestLengths) = (ll, lengths);
            }
        }
        _lengths = bestLengths;
        _noise = bestNoise;
        _chol = KernelMatrix(_lengths, _noise);
        if (!Cholesky(_chol, n))
            throw new InvalidOperationException("The Gaussian-process kernel matrix is not positive definite even with noise.");
        _alpha = Solve(_chol, n, ys);
    }

    /// <summary>Posterior mean and standard deviation (standardised units) at <paramref name="x"/>.</summary>
    public (double Mean, double Sd) Predict(double[] x)
    {
        var n = _y.Length;
        var k = new double[n];
        for (var i = 0; i < n; i++)
            k[i] = Kernel(_x[i], x, _lengths);
        var mean = 0.0;
        for (var i = 0; i < n; i++)
            mean += k[i] * _alpha[i];
        // v = L⁻¹ k; variance = k(x,x) − vᵀv.
        var v = k;
        for (var i = 0; i < n; i++)
        {
            var s = v[i];
            var row = i * n;
            for (var j = 0; j < i; j++)
                s -= _chol[row + j] * v[j];
            v[i] = s / _chol[row + i];
        }
        var variance = 1.0;
        for (var i = 0; i < n; i++)
            variance -= v[i] * v[i];
        return (mean, Math.Sqrt(Math.Max(variance, 1e-12)));
    }

    /// <summary>Expected improvement below the best observed value (minimisation, standardised units).</summary>
    public double ExpectedImprovement(double[] x, double xi)
    {
        var (mean, sd) = Predict(x);
        var improvement = BestStandardised - mean - xi;
        var z = improvement / sd;
        return improvement * Stats.NormalCdf(z) + sd * Stats.NormalPdf(z);
    }

    private double LogMarginal(double[] lengths, double noise, double[] ys)
    {
        var n = ys.Length;
        var k = KernelMatrix(lengths, noise);
        if (!Cholesky(k, n))
            return double.NegativeInfinity;
        var alpha = Solve(k, n, ys);
        var fit = 0.0;
        var logDet = 0.0;
        for (var i = 0; i < n; i++)
        {
            fit += ys[i] * alpha[i];
            logDet += Math.Log(k[i * n + i]);
        }
        return -0.5 * fit - logDet - 0.5 * n * Math.Log(2 * Math.PI);
    }

    private double[] KernelMatrix(double[] lengths, double noise)
    {
        var n = _y.Length;
        var k = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var value = Kernel(_x[i], _x[j], lengths);
                k[i * n + j] = value;
                k[j * n + i] = value;
            }
            k[i * n + i] += noise + 1e-9;
        }
        return k;
    }

    private double Kernel(double[] a, double[] b, double[] lengths)
    {
        var r2 = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            var t = (a[i] - b[i]) / lengths[i];
            r2 += t * t;
        }
        if (_kernel == GpKernel.Rbf)
            return Math.Exp(-0.5 * r2);
        var r = Math.Sqrt(5 * r2);
        return (1 + r + r * r / 3) * Math.Exp(-r);
    }

    /// <summary>In-place lower Cholesky factor of a row-major n×n matrix; false if not positive definite.</summary>
    internal static bool Cholesky(double[] a, int n)
    {
        for (var j = 0; j < n; j++)
        {
            var rowJ = j * n;
            var diag = a[rowJ + j];
            for (var k = 0; k < j; k++)
                diag -= a[rowJ + k] * a[rowJ + k];
            if (!(diag > 0))
                return false;
            var ljj = Math.Sqrt(diag);
            a[rowJ + j] = ljj;
            for (var i = j + 1; i < n; i++)
            {
                var rowI = i * n;
                var s = a[rowI + j];
                for (var k = 0; k < j; k++)
                    s -= a[rowI + k] * a[rowJ + k];
                a[rowI + j] = s / ljj;
            }
        }
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
                a[i * n + j] = 0;
        }
        return true;
    }

    /// <summary>Solves L Lᵀ x = b for a factor from <see cref="Cholesky"/>.</summary>
    internal static double[] Solve(double[] l, int n, double[] b)
    {
        var z = new double[n];
        for (var i = 0; i < n; i++)
        {
            var s = b[i];
            for (var k = 0; k < i; k++)
                s -= l[i * n + k] * z[k];
            z[i] = s / l[i * n + i];
        }
        var x = new double[n];
        for (var i = n - 1; i >= 0; i--)
        {
            var s = z[i];
            for (var k = i + 1; k < n; k++)
                s -= l[k * n + i] * x[k];
            x[i] = s / l[i * n + i];
        }
        return x;
    }
}

/// <summary>The covariance function of <see cref="GpSearcher"/>.</summary>
public enum GpKernel
{
    /// <summary>Matérn with ν = 5/2: twice-differentiable functions (the usual choice for BO).</summary>
    Matern52,

    /// <summary>Squared exponential (radial basis function): very smooth functions.</summary>
    Rbf,
}
