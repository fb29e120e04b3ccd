using System.Globalization;
using System.Numerics;

namespace RaySharp.Nn;

/// <summary>
/// Adam (Kingma and Ba), with PyTorch's defaults and bias correction. <c>weightDecay</c> adds
/// λ·θ to the gradient (L2 regularisation, PyTorch's <c>Adam</c>); <see cref="AdamW"/> decouples it.
/// </summary>
public class Adam : Optimizer
{
    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly bool _decoupled;
    private int _step;

    /// <summary>Creates the optimiser.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public Adam(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0f)
        : this(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    private protected Adam(IEnumerable<Tensor> parameters, float learningRate, float beta1, float beta2,
        float epsilon, float weightDecay, bool decoupled)
        : base(parameters, learningRate)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(beta1), $"Adam betas must be in [0, 1), got beta1={beta1}, beta2={beta2}.");
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Adam epsilon must be positive.");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be >= 0.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        _decoupled = decoupled;
        _m = Parameters.Select(p => new float[p.Length]).ToArray();
        _v = Parameters.Select(p => new float[p.Length]).ToArray();
    }

    /// <summary>Decay rate of the first-moment estimate.</summary>
    public float Beta1 { get; }

    /// <summary>Decay rate of the second-moment estimate.</summary>
    public float Beta2 { get; }

    /// <summary>Added to the denominator for numerical stability.</summary>
    public float Epsilon { get; }

    /// <summary>Weight decay coefficient λ.</summary>
    public float WeightDecay { get; }

    /// <summary>Steps taken so far.</summary>
    public int StepCount => _step;

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Tensor Value)> StateTensors()
    {
        var list = new List<(string, Tensor)>();
        for (var i = 0; i < Parameters.Count; i++)
        {
            list.Add(($"{i}.exp_avg", Tensor.Wrap(_m[i], Parameters[i].ShapeArray())));
            list.Add(($"{i}.exp_avg_sq", Tensor.Wrap(_v[i], Parameters[i].ShapeArray())));
        }
        return list;
    }

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> StateValues() =>
        new Dictionary<string, string>(base.StateValues(), StringComparer.Ordinal) { ["step"] = _step.ToString(CultureInfo.InvariantCulture) };

    private protected override void LoadStateCore(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> values)
    {
        if (!values.TryGetValue("step", out var s) || !int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var step))
            throw new InvalidDataException("The Adam state has no valid 'step' value.");
        for (var i = 0; i < Parameters.Count; i++)
        {
            ReadStateTensor(tensors, $"{i}.exp_avg", i, _m[i]);
            ReadStateTensor(tensors, $"{i}.exp_avg_sq", i, _v[i]);
        }
        _step = step;
    }

    /// <inheritdoc/>
    public override void Step()
    {
        _step++;
        var bc1 = 1f - MathF.Pow(Beta1, _step);
        var bc2 = 1f - MathF.Pow(Beta2, _step);
        var stepSize = LearningRate / bc1;
        var invSqrtBc2 = 1f / MathF.Sqrt(bc2);
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.HasNoGrad) continue;
            var theta = p.Span;
            if (_decoupled && WeightDecay > 0)
                System.Numerics.Tensors.TensorPrimitives.Multiply(theta, 1f - LearningRate * WeightDecay, theta);
            Update(theta, p.Grad!.Span, _m[i], _v[i], _decoupled ? 0f : WeightDecay, stepSize, invSqrtBc2);
        }
    }

    /// <summary>One fused pass: m ← β₁m + (1-β₁)g; v ← β₂v + (1-β₂)g²; θ ← θ - α/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε).</summary>
    private void Update(Span<float> theta, ReadOnlySpan<float> grad, Span<float> m, Span<float> v, float l2, float stepSize, float invSqrtBc2)
    {
        float b1 = Beta1, b2 = Beta2, eps = Epsilon;
        var i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vb1 = new Vector<float>(b1);
            var vb1c = new Vector<float>(1 - b1);
            var vb2 = new Vector<float>(b2);
            var vb2c = new Vector<float>(1 - b2);
            var vl2 = new Vector<float>(l2);
            var vs = new Vector<float>(stepSize);
            var vinv = new Vector<float>(invSqrtBc2);
            var veps = new Vector<float>(eps);
            for (; i <= theta.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var th = new Vector<float>(theta[i..]);
                var g = new Vector<float>(grad[i..]) + vl2 * th;
                var mm = vb1 * new Vector<float>(m[i..]) + vb1c * g;
                var vv = vb2 * new Vector<float>(v[i..]) + vb2c * g * g;
                mm.CopyTo(m[i..]);
                vv.CopyTo(v[i..]);
                (th - vs * mm / (Vector.SquareRoot(vv) * vinv + veps)).CopyTo(theta[i..]);
            }
        }
        for (; i < theta.Length; i++)
        {
            var g = grad[i] + l2 * theta[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            theta[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrtBc2 + eps);
        }
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter): Adam with decoupled weight decay, θ ← θ(1 - αλ) before the Adam
/// update. PyTorch's defaults (λ = 0.01).
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimiser.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public AdamW(IEnumerable<Tensor> parameters, float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f,
        float epsilon = 1e-8f, float weightDecay = 0.01f)
        : base(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }
}
