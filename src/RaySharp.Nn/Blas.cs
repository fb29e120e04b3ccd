using System.Runtime.InteropServices;

namespace RaySharp.Nn;

/// <summary>
/// Single-precision matrix multiply for the whole library: OpenBLAS <c>cblas_sgemm</c> when
/// <c>libopenblas.so.0</c> (Debian <c>libopenblas0-pthread</c>) can be loaded, otherwise a managed,
/// cache-blocked SIMD kernel (a one-time warning on standard error says so).
/// </summary>
/// <remarks>
/// Several workers on one node each run their own copy of this library; set <see cref="Threads"/>
/// (or the <c>RAYSHARP_NN_THREADS</c> environment variable) so that together they do not
/// oversubscribe the cores. The default is one thread per core. Products with a single row or
/// column (batch size 1) are matrix-vector products and always run as vectorised managed code on the
/// calling thread.
/// <para>
/// OpenBLAS's own thread count is kept at 1: large products are split into row (or column) blocks,
/// one single-threaded OpenBLAS call per block on <see cref="Threads"/> .NET threads. All parallel
/// work of the library then runs on one thread pool, so the fused layer kernels can apply bias,
/// activation and their gradients to each block on the thread that computed it, and no idle OpenBLAS
/// worker spins against .NET threads between products (on a 2-core node that contention had cost more
/// than the elementwise work itself).
/// </para>
/// </remarks>
public static unsafe class Blas
{
    private const int RowMajor = 101;
    private const int NoTrans = 111;
    private const int Trans = 112;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> NativeSgemm;
    private static readonly delegate* unmanaged<int, void> NativeSetThreads;
    private static int _threads;
    private static int _warned;

    static Blas()
    {
        foreach (var name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas" })
        {
            if (!NativeLibrary.TryLoad(name, out var handle))
                continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out var sgemm))
                continue;
            NativeSgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out var set))
                NativeSetThreads = (delegate* unmanaged<int, void>)set;
            LibraryName = name;
            break;
        }
        if (NativeSetThreads != null)
            NativeSetThreads(1); // this class splits products across threads itself (see remarks)
        var fromEnv = Environment.GetEnvironmentVariable("RAYSHARP_NN_THREADS");
        Threads = int.TryParse(fromEnv, out var n) && n > 0 ? n : Environment.ProcessorCount;
    }

    /// <summary>True when OpenBLAS was loaded; false when the managed kernel is used.</summary>
    public static bool IsNative => NativeSgemm != null && !ForceManaged;

    /// <summary>The native library that was loaded, or null when none was found.</summary>
    public static string? LibraryName { get; }

    /// <summary>
    /// Forces the managed kernel even when OpenBLAS is present (tests and the benchmark compare the
    /// two). Default false.
    /// </summary>
    public static bool ForceManaged { get; set; }

    /// <summary>
    /// Threads used by matrix multiplies and the fused layer kernels (OpenBLAS and the managed kernel
    /// alike). Default: the <c>RAYSHARP_NN_THREADS</c> environment variable, else
    /// <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, "Blas.Threads must be at least 1.");
            _threads = value;
        }
    }

    /// <summary>
    /// Products with fewer multiply-adds than this (about 40 µs of work on one core) run on the calling
    /// thread: waking a pool thread and joining it costs tens of microseconds (an MLP step at batch 32
    /// took twice as long split). Internal so that tests can force the split paths on small shapes.
    /// </summary>
    internal static long ParallelMinWork { get; set; } = 1 << 22;

    /// <summary>
    /// How many blocks a product (or a fused layer pass) of <paramref name="work"/> multiply-adds over
    /// <paramref name="rows"/> splittable rows is divided into: 1 below <see cref="ParallelMinWork"/>.
    /// A native library without <c>openblas_set_num_threads</c> keeps its own threading, so nothing is
    /// split on top of it.
    /// </summary>
    internal static int Blocks(long work, int rows) =>
        _threads > 1 && work >= ParallelMinWork && (NativeSetThreads != null || !IsNative) ? Math.Max(1, Math.Min(_threads, rows)) : 1;

    /// <summary>Runs <paramref name="body"/>(block) for block = 0 … blocks-1, in parallel when blocks &gt; 1.</summary>
    internal static void ForBlocks(int blocks, Action<int> body)
    {
        if (blocks == 1)
            body(0);
        else
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = blocks }, body);
    }

    /// <summary>The first row of block <paramref name="block"/> when <paramref name="rows"/> rows are split into <paramref name="blocks"/>.</summary>
    internal static int BlockStart(int rows, int blocks, int block) => (int)((long)block * rows / blocks);

    /// <summary>
    /// C = alpha · op(A) · op(B) + beta · C for row-major matrices, where op(X) is X or its transpose.
    /// op(A) is m×k, op(B) is k×n and C is m×n; A is stored m×k (or k×m when transposed), B k×n
    /// (or n×k when transposed), each densely packed.
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than its matrix.</exception>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Sgemm sizes must be non-negative, got m={m}, n={n}, k={k}.");
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n)
            throw new ArgumentException(
                $"Sgemm operands are too short for m={m}, n={n}, k={k}: A has {a.Length} (needs {(long)m * k}), " +
                $"B has {b.Length} (needs {(long)k * n}), C has {c.Length} (needs {(long)m * n}).");
        if (m == 0 || n == 0)
            return;
        if (k == 0)
        {
            if (beta == 0) c[..(m * n)].Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(c[..(m * n)], beta, c[..(m * n)]);
            return;
        }
        if (m == 1 || n == 1)
        {
            Gemv(transA, transB, m, n, k, alpha, a, b, beta, c);
            return;
        }
        if (!IsNative)
        {
            WarnManaged();
            ManagedGemm.Run(transA, transB, m, n, k, alpha, a, b, beta, c, _threads);
            return;
        }
        // Split the longer of M and N into one block per thread; each block is a strided
        // sub-product that one single-threaded OpenBLAS call computes.
        var work = (long)m * n * k;
        var splitRows = m >= n;
        var blocks = Blocks(work, splitRows ? m : n);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var (ap, bp, cp) = ((nint)pa, (nint)pb, (nint)pc);
            ForBlocks(blocks, blk =>
            {
                float* fa = (float*)ap, fb = (float*)bp, fc = (float*)cp;
                int lda = transA ? m : k, ldb = transB ? k : n;
                if (splitRows)
                {
                    int i0 = BlockStart(m, blocks, blk), rows = BlockStart(m, blocks, blk + 1) - i0;
                    Native(transA, transB, rows, n, k, alpha, fa + (transA ? i0 : (long)i0 * k), lda, fb, ldb, beta, fc + (long)i0 * n, n);
                }
                else
                {
                    int j0 = BlockStart(n, blocks, blk), cols = BlockStart(n, blocks, blk + 1) - j0;
                    Native(transA, transB, m, cols, k, alpha, fa, lda, fb + (transB ? (long)j0 * k : j0), ldb, beta, fc + j0, n);
                }
            });
        }
    }

    /// <summary>
    /// <see cref="Sgemm"/> on the calling thread only, for dense operands (the fused layer kernels
    /// call it once per block from their own parallel loop).
    /// </summary>
    internal static void SgemmSerial(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        if (m == 0 || n == 0)
            return;
        if (k == 0 || m == 1 || n == 1)
        {
            Sgemm(transA, transB, m, n, k, alpha, a, b, beta, c); // no threads on these paths
            return;
        }
        if (!IsNative)
        {
            WarnManaged();
            ManagedGemm.Run(transA, transB, m, n, k, alpha, a, b, beta, c, threads: 1);
            return;
        }
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            Native(transA, transB, m, n, k, alpha, pa, transA ? m : k, pb, transB ? k : n, beta, pc, n);
        }
    }

    private static void Native(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc) =>
        NativeSgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    private static void WarnManaged()
    {
        if (NativeSgemm == null && Interlocked.Exchange(ref _warned, 1) == 0)
            Console.Error.WriteLine("RaySharp.Nn: OpenBLAS (libopenblas.so.0) not found; using the slower managed matrix multiply. Install Debian's libopenblas0-pthread for full speed.");
    }

    /// <summary>
    /// A product with a single row or column is a matrix-vector product, done here with vectorised dot
    /// products or axpys on the calling thread: OpenBLAS 0.3.21's sgemm packs its operands even then
    /// (several times the arithmetic at batch size 1), and a single-threaded loop cannot be slowed by
    /// other processes holding the cores, as a thread team can.
    /// </summary>
    private static void Gemv(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        // m == 1: c[1,n] = a·op(B) ⇒ c = op(B)ᵀ·a; a is contiguous either way.
        // n == 1: c[m,1] = op(A)·b; b is contiguous either way.
        var matrix = m == 1 ? b : a;
        var vector = m == 1 ? a : b;
        var (rows, cols, trans) = m == 1
            ? (transB ? n : k, transB ? k : n, !transB)
            : (transA ? k : m, transA ? m : k, transA);
        var y = c[..(m == 1 ? n : m)];
        if (beta == 0) y.Clear();
        else if (beta != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(y, beta, y);
        if (!trans)
        {
            // y[i] += alpha · dot(row i, v)
            for (var i = 0; i < rows; i++)
                y[i] += alpha * System.Numerics.Tensors.TensorPrimitives.Dot(matrix.Slice(i * cols, cols), vector[..cols]);
        }
        else
        {
            // y += alpha · Σ_i v[i] · row i
            for (var i = 0; i < rows; i++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(matrix.Slice(i * cols, cols), alpha * vector[i], y, y);
        }
    }
}
