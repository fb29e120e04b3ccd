using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>Blas.ForceManaged is process-wide: these tests run alone so no other test sees it flip.</summary>
[CollectionDefinition("Blas", DisableParallelization = true)]
public sealed class BlasCollection;

[Collection("Blas")]
public class BlasTests
{
    public static TheoryData<bool, bool, int, int, int> Cases => new()
    {
        { false, false, 1, 1, 1 },
        { false, true, 1, 37, 300 },
        { true, false, 1, 300, 37 },
        { false, false, 45, 1, 70 },
        { true, true, 45, 1, 70 },
        { true, false, 300, 1, 1 },
        { false, false, 7, 19, 5 },
        { true, false, 33, 17, 300 },
        { false, true, 65, 40, 9 },
        { true, true, 70, 530, 260 },
        { false, false, 130, 70, 513 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Managed_and_native_sgemm_match_a_naive_triple_loop(bool transA, bool transB, int m, int n, int k)
    {
        var rng = new Rng(42);
        var a = Tensor.Uniform(rng, -1, 1, m * k).ToArray();
        var b = Tensor.Uniform(rng, -1, 1, k * n).ToArray();
        var c0 = Tensor.Uniform(rng, -1, 1, m * n).ToArray();
        var expected = NaiveGemm(transA, transB, m, n, k, 0.5, a, b, 0.25, c0);

        foreach (var managed in new[] { true, false })
        {
            Blas.ForceManaged = managed;
            try
            {
                var c = (float[])c0.Clone();
                Blas.Sgemm(transA, transB, m, n, k, 0.5f, a, b, 0.25f, c);
                for (var i = 0; i < c.Length; i++)
                    Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-4 * Math.Max(1, k), $"managed={managed} C[{i}] = {c[i]} but expected {expected[i]}");
            }
            finally
            {
                Blas.ForceManaged = false;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Products_split_across_threads_match_a_naive_triple_loop(bool transA, bool transB, int m, int n, int k)
    {
        // Every product is split (three uneven blocks of rows, or of columns when n > m) down to the smallest.
        var rng = new Rng(43);
        var a = Tensor.Uniform(rng, -1, 1, m * k).ToArray();
        var b = Tensor.Uniform(rng, -1, 1, k * n).ToArray();
        var c = Tensor.Uniform(rng, -1, 1, m * n).ToArray();
        var expected = NaiveGemm(transA, transB, m, n, k, 1.5, a, b, -0.5, c);
        using (SplitEverything.Scope(threads: 3))
            Blas.Sgemm(transA, transB, m, n, k, 1.5f, a, b, -0.5f, c);
        for (var i = 0; i < c.Length; i++)
            Assert.True(Math.Abs(c[i] - expected[i]) <= 1e-4 * Math.Max(1, k), $"C[{i}] = {c[i]} but expected {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void With_beta_zero_the_output_may_hold_garbage_such_as_NaN(bool transA, bool transB, int m, int n, int k)
    {
        var rng = new Rng(5);
        var a = Tensor.Uniform(rng, -1, 1, m * k).ToArray();
        var b = Tensor.Uniform(rng, -1, 1, k * n).ToArray();
        foreach (var managed in new[] { true, false })
        {
            Blas.ForceManaged = managed;
            try
            {
                var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
                Blas.Sgemm(transA, transB, m, n, k, 1f, a, b, 0f, c);
                Assert.All(c, v => Assert.False(float.IsNaN(v), $"managed={managed}: NaN survived beta = 0"));
            }
            finally
            {
                Blas.ForceManaged = false;
            }
        }
    }

    /// <summary>alpha·op(A)·op(B) + beta·C in double precision, the reference every kernel is checked against.</summary>
    private static double[] NaiveGemm(bool transA, bool transB, int m, int n, int k, double alpha, float[] a, float[] b, double beta, float[] c)
    {
        var expected = new double[m * n];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double s = 0;
                for (var p = 0; p < k; p++)
                    s += (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                expected[i * n + j] = alpha * s + beta * c[i * n + j];
            }
        return expected;
    }

    [Fact]
    public void OpenBLAS_is_loaded_when_the_Debian_package_is_installed()
    {
        if (!File.Exists("/usr/lib/x86_64-linux-gnu/libopenblas.so.0")) return; // CI installs it; nothing to check elsewhere
        Assert.True(Blas.IsNative);
        Assert.Equal("libopenblas.so.0", Blas.LibraryName);
    }

    [Fact]
    public void Sgemm_names_all_sizes_when_an_operand_is_too_short()
    {
        var e = Assert.Throws<ArgumentException>(() => Blas.Sgemm(false, false, 2, 2, 2, 1, new float[3], new float[4], 0, new float[4]));
        Assert.Contains("A has 3 (needs 4)", e.Message);
    }

    [Fact]
    public void Thread_count_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Blas.Threads = 0);
    }
}

/// <summary>
/// Makes every product and fused layer pass split into blocks, however small, until disposed (the
/// default threshold keeps small shapes on one thread, so the split code paths would go untested).
/// </summary>
internal sealed class SplitEverything : IDisposable
{
    private readonly int _threads = Blas.Threads;
    private readonly long _minWork = Blas.ParallelMinWork;

    private SplitEverything(int threads)
    {
        Blas.Threads = threads;
        Blas.ParallelMinWork = 0;
    }

    public static SplitEverything Scope(int threads) => new(threads);

    public void Dispose()
    {
        Blas.Threads = _threads;
        Blas.ParallelMinWork = _minWork;
    }
}
