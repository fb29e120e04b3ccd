using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using RaySharp.Nn;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;

namespace RaySharp.Bench.Nn;

/// <summary>
/// <c>nn --only cnn</c>: a small CNN (two conv + pool blocks, one dense layer) trained on Fashion-MNIST
/// for a fixed number of epochs (test accuracy, time per epoch, training GFLOP/s as a share of the
/// same-run sgemm peak, a learning-curve PNG), then the trained model exported to ONNX and timed
/// against ONNX Runtime at batch 1 and 64.
/// </summary>
internal static class CnnSection
{
    private const int Batch = 256;

    /// <summary>
    /// Matrix-multiply FLOPs of one training sample: forward, dW and dX of conv2 (32→64, 3×3 on 14×14)
    /// and the dense layer (3136→10), forward and dW of conv1 (1→32, 3×3 on 28×28; its input needs no gradient).
    /// </summary>
    private const double TrainFlopsPerSample = 3 * (2.0 * 64 * 288 * 196 + 2.0 * 3136 * 10) + 2 * (2.0 * 32 * 9 * 784);

    public static Sequential Model(Rng rng) => new(
        new Conv2d(1, 32, 3, padding: 1, rng: rng), new ActivationLayer(Activation.ReLU), new MaxPool2d(2),
        new Conv2d(32, 64, 3, padding: 1, rng: rng), new ActivationLayer(Activation.ReLU), new MaxPool2d(2),
        new Flatten(), new Linear(64 * 7 * 7, 10, rng: rng));

    public static void Run(BenchReport report, BenchContext context, Func<double> reference, CancellationToken ct)
    {
        TensorDataset train, test;
        try
        {
            (train, test) = (FashionMnist.Load(train: true), FashionMnist.Load(train: false));
        }
        catch (FileNotFoundException e)
        {
            report.Note($"cnn section skipped: {e.Message}");
            return;
        }
        var epochs = context.Quick ? 1 : 5;
        var model = Model(new Rng(1));
        var opt = new Adam(model.Parameters(), 1e-3f);
        var loader = new DataLoader(train, Batch, shuffle: true, seed: 2);
        var epochSeconds = new double[epochs];
        var pct = new double[epochs];
        var gflops = new double[epochs];
        var curve = new List<(double Epoch, double Loss, double Accuracy)>();
        var accuracy = 0.0;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            model.Train();
            var clock = Stopwatch.StartNew();
            var (lossSum, steps, samples) = (0.0, 0, 0);
            foreach (var batch in loader)
            {
                opt.ZeroGrad();
                var loss = Loss.CrossEntropy(model.Forward(batch.Inputs), batch.Labels());
                loss.Backward();
                opt.Step();
                (lossSum, steps, samples) = (lossSum + loss.Item(), steps + 1, samples + batch.Indices.Length);
                if (steps % 47 == 0) curve.Add((epoch + (double)samples / train.Count, lossSum / steps, double.NaN));
            }
            epochSeconds[epoch] = clock.Elapsed.TotalSeconds;
            gflops[epoch] = samples * TrainFlopsPerSample / epochSeconds[epoch] / 1e9;
            pct[epoch] = 100 * gflops[epoch] / reference();
            accuracy = Accuracy(model, test);
            curve.Add((epoch + 1, lossSum / steps, accuracy));
            Console.WriteLine($"  epoch {epoch + 1}: {epochSeconds[epoch]:F1} s, train loss {lossSum / steps:F4}, test accuracy {accuracy:F2}%");
        }
        report.Add("fashion_mnist_cnn_test_accuracy", "%", accuracy);
        report.Add("cnn_epoch_seconds", "s", epochSeconds);
        report.Add("cnn_train_b256_samples", "samples/s", epochSeconds.Select(s => train.Count / s).ToArray());
        report.Add("cnn_train_b256_gflops", "GFLOP/s", gflops);
        var pctStat = report.Add("cnn_train_b256_pct_of_sgemm_peak", "%", pct);
        report.Note($"CNN after {epochs} epoch(s): test accuracy {accuracy:F2}% (target ≥ 90%); training at batch 256 reaches {pctStat.Mean:F0} ± {pctStat.Sd:F0}% of the same-run sgemm peak (target ≥ 50%)");
        Directory.CreateDirectory(context.ResultsDirectory);
        LearningCurvePlot.Write(Path.Combine(context.ResultsDirectory, "nn-cnn-learning-curve.png"), curve);
        Inference(report, context, model, test, ct);
    }

    private static double Accuracy(Module model, TensorDataset test)
    {
        model.Eval();
        var correct = 0;
        using var _ = Tensor.NoGrad();
        foreach (var batch in new DataLoader(test, 1000))
        {
            var predicted = model.Forward(batch.Inputs).ArgMax(-1);
            var labels = batch.Labels();
            for (var i = 0; i < labels.Length; i++) correct += predicted[i] == labels[i] ? 1 : 0;
        }
        return 100.0 * correct / test.Count;
    }

    /// <summary>The trained model's inference latency in Nn and, exported, in ONNX Runtime (same threads), batch 1 and 64.</summary>
    private static void Inference(BenchReport report, BenchContext context, Module model, TensorDataset test, CancellationToken ct)
    {
        var runs = context.Quick ? 3 : 7;
        var bytes = OnnxExport.ToBytes(model, [1, 28, 28]);
        using var options = new SessionOptions { IntraOpNumThreads = Blas.Threads, InterOpNumThreads = 1 };
        using var session = new InferenceSession(bytes, options);
        model.Eval();
        foreach (var batch in new[] { 1, 64 })
        {
            ct.ThrowIfCancellationRequested();
            var x = test.Inputs.Slice(0, batch).Clone();
            var input = new DenseTensor(x.ToArray(), x.ShapeArray());
            IReadOnlyCollection<NamedOnnxValue> feed = [NamedOnnxValue.CreateFromTensor("input", input)];
            void Nn()
            {
                using var _ = Tensor.NoGrad();
                model.Forward(x);
            }
            void Ort()
            {
                using var results = session.Run(feed);
            }
            // Alternate the two so that load from other processes weighs on both alike; medians per run.
            var iters = Math.Max(NnBenchmark.Calibrate(Nn, context.Quick ? 0.1 : 0.3) / 2, 8);
            var (nn, ort, ratio) = (new double[runs], new double[runs], new double[runs]);
            var (tn, to) = (new double[iters], new double[iters]);
            for (var r = 0; r < runs; r++)
            {
                for (var i = 0; i < iters; i++)
                {
                    tn[i] = NnBenchmark.Time(Nn);
                    to[i] = NnBenchmark.Time(Ort);
                }
                (nn[r], ort[r]) = (NnBenchmark.Median(tn) * 1e3, NnBenchmark.Median(to) * 1e3);
                ratio[r] = nn[r] / ort[r];
            }
            report.Add($"cnn_infer_b{batch}_nn_ms", "ms", nn);
            report.Add($"cnn_infer_b{batch}_onnxruntime_ms", "ms", ort);
            report.Add($"cnn_infer_b{batch}_nn_samples", "samples/s", nn.Select(t => batch * 1e3 / t).ToArray());
            report.Add($"cnn_infer_b{batch}_onnxruntime_samples", "samples/s", ort.Select(t => batch * 1e3 / t).ToArray());
            var stat = report.Add($"cnn_infer_b{batch}_nn_vs_onnxruntime", "x time", ratio);
            report.Note($"CNN inference batch {batch}: Nn takes {stat.Mean:F2} ± {stat.Sd:F2} × ONNX Runtime's time (target ≤ 1.5)");
        }
    }
}
