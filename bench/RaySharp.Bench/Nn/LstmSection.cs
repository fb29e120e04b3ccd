using RaySharp.Nn;

namespace RaySharp.Bench.Nn;

/// <summary>
/// <c>nn --only lstm</c>: forward + backward of a 2-layer LSTM (hidden 256, input 256, batch 64,
/// 32 steps, batch-first), as sequences/s and as GFLOP/s against the same-run sgemm peak (the GEMM roofline).
/// </summary>
internal static class LstmSection
{
    private const int Hidden = 256;
    private const int Input = 256;
    private const int BatchSize = 64;
    private const int Steps = 32;

    /// <summary>
    /// Matrix-multiply FLOPs of one forward + backward pass: per layer and step the gate products
    /// x·W_ihᵀ and h·W_hhᵀ (2·N·(in + H)·4H), times 3 for forward, dW and dX.
    /// </summary>
    private const double Flops = 3.0 * 2 * 2 * BatchSize * Steps * (Input + Hidden) * 4 * Hidden;

    public static void Run(BenchReport report, BenchContext context, Func<double> reference, CancellationToken ct)
    {
        var runs = context.Quick ? 3 : 7;
        var lstm = new Lstm(Input, Hidden, layers: 2, batchFirst: true, rng: new Rng(1));
        var x = Tensor.Uniform(new Rng(2), -1, 1, BatchSize, Steps, Input);
        void Step()
        {
            foreach (var p in lstm.Parameters()) p.ZeroGrad();
            lstm.Forward(x).Square().Mean().Backward();
        }
        var iters = NnBenchmark.Calibrate(Step, context.Quick ? 0.3 : 1.0);
        var rates = new double[runs];
        var pct = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            ct.ThrowIfCancellationRequested();
            rates[r] = iters / NnBenchmark.Time(() => { for (var i = 0; i < iters; i++) Step(); });
            pct[r] = 100 * rates[r] * Flops / 1e9 / reference();
        }
        report.Add("lstm2x256_fwd_bwd_sequences", "sequences/s", rates.Select(r => r * BatchSize).ToArray());
        report.Add("lstm2x256_fwd_bwd_gflops", "GFLOP/s", rates.Select(r => r * Flops / 1e9).ToArray());
        var stat = report.Add("lstm2x256_fwd_bwd_pct_of_sgemm_peak", "%", pct);
        report.Note($"LSTM 2×256 (batch {BatchSize}, {Steps} steps) forward+backward at {stat.Mean:F0} ± {stat.Sd:F0}% of the same-run sgemm peak");
    }
}
