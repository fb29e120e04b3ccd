using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

/// <summary>Compares autodiff gradients with central finite differences computed in float32.</summary>
internal static class GradCheck
{
    public static void Check(Func<Tensor[], Tensor> f, params Tensor[] inputs) => Check(f, 1e-2f, 2e-2f, inputs);

    public static void Check(Func<Tensor[], Tensor> f, float eps, float tolerance, params Tensor[] inputs)
    {
        foreach (var x in inputs)
        {
            x.RequiresGrad = true;
            x.Grad = null;
        }
        // Reduce any output to a scalar with fixed, distinct weights so every output element matters.
        Tensor Scalarise(Tensor y)
        {
            if (y.Length == 1) return y.Reshape();
            var w = new float[y.Length];
            for (var i = 0; i < w.Length; i++) w[i] = 0.5f + 0.25f * MathF.Sin(i + 1);
            return (y * Tensor.FromArray(w, y.ShapeArray())).Sum();
        }

        var loss = Scalarise(f(inputs));
        loss.Backward();
        for (var k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            Assert.True(x.Grad is not null, $"input {k} received no gradient");
            var analytic = x.Grad!.ToArray();
            var data = x.Span;
            for (var i = 0; i < data.Length; i++)
            {
                var saved = data[i];
                double plus, minus;
                using (Tensor.NoGrad())
                {
                    data[i] = saved + eps;
                    plus = Scalarise(f(inputs)).Item();
                    data[i] = saved - eps;
                    minus = Scalarise(f(inputs)).Item();
                }
                data[i] = saved;
                var numeric = (plus - minus) / (2 * eps);
                var err = Math.Abs(numeric - analytic[i]);
                var scale = Math.Max(1.0, Math.Abs(numeric));
                Assert.True(err <= tolerance * scale,
                    $"input {k} element {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6} (error {err:G3})");
            }
        }
    }

    public static Tensor Random(ulong seed, params int[] shape) => Tensor.Uniform(new Rng(seed), -1f, 1f, shape);

    /// <summary>Values away from 0 (for kinks: ReLU, Abs, Max).</summary>
    public static Tensor AwayFromZero(ulong seed, params int[] shape)
    {
        var t = Random(seed, shape);
        var s = t.Span;
        for (var i = 0; i < s.Length; i++) s[i] = s[i] >= 0 ? s[i] + 0.1f : s[i] - 0.1f;
        return t;
    }

    public static Tensor Positive(ulong seed, params int[] shape) => Tensor.Uniform(new Rng(seed), 0.5f, 2f, shape);
}
