using System.Diagnostics;
using System.Runtime.InteropServices;
using RaySharp.Nn;
using RaySharp.RLlib.Envs;

namespace RaySharp.Bench.Nn;

/// <summary>
/// <c>nn</c>: sgemm through RaySharp.Nn vs OpenBLAS called directly; forward+backward+Adam steps of an
/// MLP 64→256→256→2 at several batch sizes (with the framework's per-step overhead over the bare
/// kernels); classic-control environment steps, single and vectorised; a Fashion-MNIST CNN (training,
/// and inference against ONNX Runtime, <see cref="CnnSection"/>); LSTM throughput (<see cref="LstmSection"/>).
/// </summary>
internal sealed class NnBenchmark : IBenchmark
{
    private const int VectorCopies = 1024;

    public string Verb => "nn";

    public string Description => "tensors, autodiff, optimisers, classic-control environments, a Fashion-MNIST CNN and an LSTM [--threads N] [--only sgemm|mlp|env|cnn|lstm]";

    public Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        var threadsAt = context.Args.ToList().IndexOf("--threads");
        if (threadsAt >= 0)
        {
            if (threadsAt + 1 >= context.Args.Count || !int.TryParse(context.Args[threadsAt + 1], out var threads) || threads < 1)
                throw new ArgumentException("--threads needs a positive number (Blas.Threads for this run).");
            Blas.Threads = threads;
        }
        var onlyAt = context.Args.ToList().IndexOf("--only");
        var only = onlyAt >= 0 && onlyAt + 1 < context.Args.Count ? context.Args[onlyAt + 1] : null;
        if (onlyAt >= 0 && only is not ("sgemm" or "mlp" or "env" or "cnn" or "lstm"))
            throw new ArgumentException("--only needs one of sgemm, mlp, env, cnn, lstm (the section to run).");
        var runs = context.Quick ? 3 : 7;
        var seconds = context.Quick ? 0.15 : 0.4;
        report.Note($"matrix multiply: {(Blas.IsNative ? Blas.LibraryName : "managed fallback (OpenBLAS not found)")}, {Blas.Threads} thread(s)");

        if (only is null or "sgemm") Sgemm(report, runs, seconds, cancellationToken);
        // The training step's reference is OpenBLAS sgemm at the largest size (its asymptotic rate).
        if (only is null or "mlp") Mlp(report, runs, seconds, ReferenceRun(2048, seconds / 2), cancellationToken);
        if (only is null or "env") Envs(report, runs, seconds, cancellationToken);
        if (only is null or "cnn") CnnSection.Run(report, context, ReferenceRun(2048, seconds / 2), cancellationToken);
        if (only is null or "lstm") LstmSection.Run(report, context, ReferenceRun(2048, seconds / 2), cancellationToken);
        return Task.CompletedTask;
    }

    // ---------------- sgemm ----------------

    [DllImport("libopenblas.so.0", EntryPoint = "cblas_sgemm")]
    private static extern void OpenBlasSgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
        float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc);

    [DllImport("libopenblas.so.0", EntryPoint = "openblas_set_num_threads")]
    private static extern void OpenBlasSetThreads(int threads);

    /// <summary>
    /// Runs <paramref name="work"/> with OpenBLAS's own threading at <see cref="Blas.Threads"/> threads,
    /// so the reference is OpenBLAS as it is usually called. RaySharp.Nn keeps OpenBLAS at one thread
    /// and splits products across its own threads (see <see cref="Blas"/>), so the count is put back
    /// to 1 afterwards. OpenBLAS's idle workers keep polling for new work for about 0.1 s (2^28 cycles,
    /// its default thread timeout) before they sleep; the pause after the reference keeps that polling
    /// out of whatever is timed next.
    /// </summary>
    private static T WithOpenBlasThreads<T>(Func<T> work)
    {
        OpenBlasSetThreads(Blas.Threads);
        try
        {
            return work();
        }
        finally
        {
            OpenBlasSetThreads(1);
            Thread.Sleep(200);
        }
    }

    /// <summary>Runs the sgemm section: our path, OpenBLAS called directly, and the managed kernel.</summary>
    private static void Sgemm(BenchReport report, int runs, double seconds, CancellationToken ct)
    {
        var peak = 0.0;
        foreach (var n in new[] { 256, 1024, 2048 })
        {
            ct.ThrowIfCancellationRequested();
            var rng = new Rng(1);
            var a = Tensor.Uniform(rng, -1, 1, n, n);
            var b = Tensor.Uniform(rng, -1, 1, n, n);
            var flops = 2.0 * n * n * n;
            var iters = Calibrate(() => a.MatMul(b), seconds);
            var ours = Measure.Rate(runs, iters, () => { for (var i = 0; i < iters; i++) a.MatMul(b); });
            report.Add($"sgemm_{n}_ours", "GFLOP/s", ours.Select(r => r * flops / 1e9).ToArray());

            if (Blas.IsNative)
            {
                float[] ad = a.ToArray(), bd = b.ToArray(), cd = new float[n * n];
                var direct = WithOpenBlasThreads(() => Measure.Rate(runs, iters, () =>
                {
                    for (var i = 0; i < iters; i++) OpenBlasSgemm(101, 111, 111, n, n, n, 1f, ad, n, bd, n, 0f, cd, n);
                }));
                var stat = report.Add($"ref_openblas_sgemm_{n}", "GFLOP/s", direct.Select(r => r * flops / 1e9).ToArray());
                peak = Math.Max(peak, stat.Mean);
            }

            Blas.ForceManaged = true;
            try
            {
                var mIters = Calibrate(() => a.MatMul(b), seconds);
                var managed = Measure.Rate(runs, mIters, () => { for (var i = 0; i < mIters; i++) a.MatMul(b); });
                var stat = report.Add($"sgemm_{n}_managed_fallback", "GFLOP/s", managed.Select(r => r * flops / 1e9).ToArray());
                if (Blas.LibraryName is null) peak = Math.Max(peak, stat.Mean); // no OpenBLAS: the managed kernel is the reference
            }
            finally
            {
                Blas.ForceManaged = false;
            }
        }
        report.Add("sgemm_peak_reference", "GFLOP/s", peak);
    }

    /// <summary>
    /// The peak reference sgemm (OpenBLAS direct, else the managed kernel): each call of the returned
    /// function times about <paramref name="seconds"/> of calls and returns their GFLOP/s. The MLP
    /// section calls it between its own runs so both see the same machine load.
    /// </summary>
    private static Func<double> ReferenceRun(int n, double seconds)
    {
        var rng = new Rng(9);
        float[] a = Tensor.Uniform(rng, -1, 1, n * n).ToArray(), b = Tensor.Uniform(rng, -1, 1, n * n).ToArray(), c = new float[n * n];
        Action one = Blas.IsNative
            ? () => OpenBlasSgemm(101, 111, 111, n, n, n, 1f, a, n, b, n, 0f, c, n)
            : () => Blas.Sgemm(false, false, n, n, n, 1f, a, b, 0f, c);
        if (!Blas.IsNative)
        {
            var managedIters = Math.Max(Calibrate(one, seconds), 2);
            return () => managedIters * 2.0 * n * n * n / Time(() => { for (var i = 0; i < managedIters; i++) one(); }) / 1e9;
        }
        var iters = WithOpenBlasThreads(() => Math.Max(Calibrate(one, seconds), 2));
        return () => WithOpenBlasThreads(() => iters * 2.0 * n * n * n / Time(() => { for (var i = 0; i < iters; i++) one(); }) / 1e9);
    }

    internal static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : 0.5 * (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]);
    }

    // ---------------- MLP training step ----------------

    private static void Mlp(BenchReport report, int runs, double seconds, Func<double> reference, CancellationToken ct)
    {
        const int inF = 64, hidden = 256, outF = 2;
        // Matrix-multiply FLOPs of one step: forward x·Wᵀ per layer (2·B·in·out), backward dW per layer
        // and dX for every layer but the first (its input needs no gradient).
        static double StepFlops(int batch) =>
            2.0 * batch * (3.0 * (inF * hidden + hidden * hidden + hidden * outF) - inF * hidden);

        foreach (var batch in new[] { 1, 32, 256, 4096 })
        {
            ct.ThrowIfCancellationRequested();
            var net = new RaySharp.Nn.Mlp(inF, [hidden, hidden], outF, Activation.ReLU, rng: new Rng(2));
            var opt = new Adam(net.Parameters(), 1e-4f);
            var rng = new Rng(3);
            var x = Tensor.Uniform(rng, -1, 1, batch, inF);
            var y = Tensor.Uniform(rng, -1, 1, batch, outF);
            void Step()
            {
                opt.ZeroGrad();
                var loss = Loss.Mse(net.Forward(x), y);
                loss.Backward();
                opt.Step();
            }
            var iters = Calibrate(Step, seconds);
            var rates = new double[runs];
            var pct = new double[runs];
            for (var r = 0; r < runs; r++)
            {
                // The % of peak divides the run's GFLOP/s by the reference sgemm's, timed right after
                // it: both are plain rates over runs of similar length, so load from other processes
                // on this shared machine weighs on both alike.
                rates[r] = iters / Time(() => { for (var i = 0; i < iters; i++) Step(); });
                pct[r] = 100 * rates[r] * StepFlops(batch) / 1e9 / reference();
            }
            report.Add($"mlp_train_b{batch}_steps", "steps/s", rates);
            report.Add($"mlp_train_b{batch}_samples", "samples/s", rates.Select(r => r * batch).ToArray());
            var gflops = rates.Select(r => r * StepFlops(batch) / 1e9).ToArray();
            report.Add($"mlp_train_b{batch}_gflops", "GFLOP/s", gflops);
            var pctStat = report.Add($"mlp_train_b{batch}_pct_of_sgemm_peak", "%", pct);

            if (batch == 1)
            {
                // Overhead = autodiff step − bare kernels. Steps alternate one by one and each run
                // compares medians, so preemption by other processes (this machine is shared) hits
                // both sides alike and single stalls do not count.
                var raw = new RawMlpStep(inF, hidden, outF, batch);
                var rawIters = Math.Max(Calibrate(raw.Step, seconds) / 2, 16);
                var rawRates = new double[runs];
                var overheads = new double[runs];
                var autoTimes = new double[rawIters];
                var bareTimes = new double[rawIters];
                for (var r = 0; r < runs; r++)
                {
                    for (var i = 0; i < rawIters; i++)
                    {
                        autoTimes[i] = Time(Step);
                        bareTimes[i] = Time(raw.Step);
                    }
                    var bare = Median(bareTimes);
                    rawRates[r] = 1 / bare;
                    overheads[r] = (Median(autoTimes) - bare) * 1e6;
                }
                report.Add("mlp_train_b1_bare_kernels_steps", "steps/s", rawRates);
                var overhead = report.Add("mlp_train_b1_overhead", "µs/step", overheads);
                report.Note($"batch-1 overhead (median autodiff step minus median of the same sgemm/elementwise/Adam kernels called directly, steps alternating): {overhead.Mean:F1} ± {overhead.Sd:F1} µs (target ≤ 20 µs)");
            }
            if (batch == 4096)
                report.Note($"batch-4096 training step reaches {pctStat.Mean:F0} ± {pctStat.Sd:F0}% of OpenBLAS sgemm 2048 GFLOP/s (timed in alternating runs; target ≥ 70%)");
        }
    }

    /// <summary>
    /// The same MLP step with the graph, allocation and dispatch removed: the eight sgemm calls, the
    /// ReLU/bias/loss kernels and the library's Adam on preallocated buffers. The difference to the
    /// autodiff step is the framework's overhead.
    /// </summary>
    private sealed class RawMlpStep
    {
        private readonly int _batch;
        private readonly int[] _sizes;
        private readonly Tensor[] _w;
        private readonly Tensor[] _b;
        private readonly float[][] _act;
        private readonly float[][] _grad;
        private readonly float[] _target;
        private readonly Adam _adam;

        public RawMlpStep(int inF, int hidden, int outF, int batch)
        {
            _batch = batch;
            _sizes = [inF, hidden, hidden, outF];
            var rng = new Rng(4);
            _w = new Tensor[3];
            _b = new Tensor[3];
            _act = new float[4][];
            _grad = new float[4][];
            for (var l = 0; l < 3; l++)
            {
                _w[l] = Tensor.Uniform(rng, -0.1f, 0.1f, _sizes[l + 1], _sizes[l]);
                _b[l] = Tensor.Zeros(_sizes[l + 1]);
                _w[l].RequiresGrad = _b[l].RequiresGrad = true;
                _w[l].Grad = _w[l].ZerosLike();
                _b[l].Grad = _b[l].ZerosLike();
            }
            for (var l = 0; l < 4; l++)
            {
                _act[l] = Tensor.Uniform(rng, -1, 1, batch * _sizes[l]).ToArray();
                _grad[l] = new float[batch * _sizes[l]];
            }
            _target = new float[batch * outF];
            _adam = new Adam(_w.Concat(_b), 1e-4f);
        }

        public void Step()
        {
            // forward
            for (var l = 0; l < 3; l++)
            {
                var (i, o) = (_sizes[l], _sizes[l + 1]);
                var y = _act[l + 1];
                for (var r = 0; r < _batch; r++) _b[l].Span.CopyTo(y.AsSpan(r * o, o));
                Blas.Sgemm(false, true, _batch, o, i, 1f, _act[l], _w[l].Span, 1f, y);
                if (l < 2) System.Numerics.Tensors.TensorPrimitives.Max(y, 0f, y);
            }
            // MSE gradient
            var n = _act[3].Length;
            System.Numerics.Tensors.TensorPrimitives.Subtract(_act[3], _target, _grad[3]);
            System.Numerics.Tensors.TensorPrimitives.Multiply(_grad[3], 2f / n, _grad[3]);
            // backward
            for (var l = 2; l >= 0; l--)
            {
                var (i, o) = (_sizes[l], _sizes[l + 1]);
                var g = _grad[l + 1];
                if (l < 2)
                {
                    var a = _act[l + 1];
                    for (var k = 0; k < g.Length; k++) if (a[k] <= 0) g[k] = 0;
                }
                Blas.Sgemm(true, false, o, i, _batch, 1f, g, _act[l], 0f, _w[l].Grad!.Span);
                var db = _b[l].Grad!.Span;
                g.AsSpan(0, o).CopyTo(db);
                for (var r = 1; r < _batch; r++) System.Numerics.Tensors.TensorPrimitives.Add(db, g.AsSpan(r * o, o), db);
                if (l > 0) Blas.Sgemm(false, false, _batch, i, o, 1f, g, _w[l].Span, 0f, _grad[l]);
            }
            _adam.Step();
        }
    }

    // ---------------- environments ----------------

    private static void Envs(BenchReport report, int runs, double seconds, CancellationToken ct)
    {
        foreach (var id in Gym.Ids)
        {
            ct.ThrowIfCancellationRequested();
            var env = Gym.Make(id);
            var obs = new float[env.ObservationSpace.Size];
            var rng = new Rng(5);
            const int actionCount = 4096;
            var discrete = env is DiscreteEnv d ? Enumerable.Range(0, actionCount).Select(_ => d.ActionSpace is Discrete s ? s.Sample(rng) : 0).ToArray() : [];
            var continuous = env is ContinuousEnv c ? Enumerable.Range(0, actionCount).SelectMany(_ => ((Box)c.ActionSpace).Sample(rng)).ToArray() : [];
            var actSize = env is ContinuousEnv ce ? ce.ActionSize : 1;
            env.Reset(obs, seed: 0);
            var k = 0;
            void SingleSteps(int count)
            {
                for (var i = 0; i < count; i++)
                {
                    var a = k++ & (actionCount - 1);
                    var o = env is DiscreteEnv de
                        ? de.Step(discrete[a], obs)
                        : ((ContinuousEnv)env).Step(continuous.AsSpan(a * actSize, actSize), obs);
                    if (o.Terminated || o.Truncated) env.Reset(obs);
                }
            }
            var iters = Calibrate(() => SingleSteps(1000), seconds) * 1000L;
            var best = 0.0;
            report.Add($"env_{id}_single", "steps/s", Measure.Rate(runs, iters, () => SingleSteps((int)iters)));

            var threads = Environment.ProcessorCount;
            foreach (var t in threads > 1 ? new[] { 1, threads } : [1])
            {
                var vec = Gym.MakeVector(id, VectorCopies, t);
                vec.Reset(seed: 0);
                var vecDiscrete = new int[VectorCopies];
                var vecContinuous = new float[VectorCopies * actSize];
                var j = 0;
                void VectorStep()
                {
                    var off = j++ & (actionCount / 2 - 1);
                    if (vec.Envs[0] is DiscreteEnv)
                    {
                        for (var i = 0; i < VectorCopies; i++) vecDiscrete[i] = discrete[(off + i) & (actionCount - 1)];
                        vec.Step(vecDiscrete);
                    }
                    else
                    {
                        for (var i = 0; i < vecContinuous.Length; i++) vecContinuous[i] = continuous[(off + i) % continuous.Length];
                        vec.Step(vecContinuous.AsSpan());
                    }
                }
                var vIters = Calibrate(VectorStep, seconds);
                var vRates = Measure.Rate(runs, (long)vIters * VectorCopies, () => { for (var i = 0; i < vIters; i++) VectorStep(); });
                var stat = report.Add(t == 1 ? $"env_{id}_vector{VectorCopies}" : $"env_{id}_vector{VectorCopies}_threads{t}", "steps/s", vRates);
                best = Math.Max(best, stat.Mean);
            }
            if (id == "CartPole-v1")
                report.Note($"CartPole vectorised: {best / 1e6:F1} M steps/s (target ≥ 5 M)");
        }
    }

    internal static double Time(Action work)
    {
        var clock = Stopwatch.StartNew();
        work();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>How many calls of <paramref name="work"/> take about <paramref name="seconds"/>.</summary>
    internal static int Calibrate(Action work, double seconds)
    {
        work();
        var n = 1;
        while (true)
        {
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < n; i++) work();
            var t = clock.Elapsed.TotalSeconds;
            if (t >= seconds / 4 || n >= 1 << 24)
                return Math.Max(1, (int)(n * seconds / Math.Max(t, 1e-9)));
            n *= 4;
        }
    }
}
