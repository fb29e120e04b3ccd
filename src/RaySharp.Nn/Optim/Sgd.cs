using System.Numerics.Tensors;

namespace RaySharp.Nn;

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as
/// PyTorch's <c>SGD</c>: b ← μb + g (b = g on the first step); θ ← θ - α·(Nesterov ? g + μb : b).
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[]?[] _momentum;

    /// <summary>Creates the optimiser.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public Sgd(IEnumerable<Tensor> parameters, float learningRate, float momentum = 0f, float weightDecay = 0f, bool nesterov = false)
        : base(parameters, learningRate)
    {
        if (!(momentum >= 0) || momentum >= 1)
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "SGD momentum must be in [0, 1).");
        if (!(weightDecay >= 0))
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Weight decay must be >= 0.");
        if (nesterov && momentum == 0)
            throw new ArgumentOutOfRangeException(nameof(nesterov), "Nesterov momentum needs momentum > 0.");
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentum = new float[]?[Parameters.Count];
    }

    /// <summary>Momentum factor μ.</summary>
    public float Momentum { get; }

    /// <summary>L2 weight decay λ (added to the gradient).</summary>
    public float WeightDecay { get; }

    /// <summary>Whether Nesterov momentum is used.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<(string Name, Tensor Value)> StateTensors()
    {
        var list = new List<(string, Tensor)>();
        for (var i = 0; i < Parameters.Count; i++)
            if (_momentum[i] is { } buf) list.Add(($"{i}.momentum_buffer", Tensor.Wrap(buf, Parameters[i].ShapeArray())));
        return list;
    }

    private protected override void LoadStateCore(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> values)
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            if (!tensors.ContainsKey($"{i}.momentum_buffer"))
            {
                _momentum[i] = null; // no step with a gradient yet: the next one starts the buffer
                continue;
            }
            var buf = new float[Parameters[i].Length];
            ReadStateTensor(tensors, $"{i}.momentum_buffer", i, buf);
            _momentum[i] = buf;
        }
    }

    /// <inheritdoc/>
    public override void Step()
    {
        for (var i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.HasNoGrad) continue;
            var theta = p.Span;
            var g = p.Grad!.Span.ToArray();
            if (WeightDecay > 0) TensorPrimitives.MultiplyAdd(theta, WeightDecay, g, g);
            if (Momentum > 0)
            {
                var buf = _momentum[i];
                if (buf is null)
                {
                    _momentum[i] = buf = (float[])g.Clone();
                }
                else
                {
                    TensorPrimitives.MultiplyAdd(buf, Momentum, g, buf);
                }
                if (Nesterov) TensorPrimitives.MultiplyAdd(buf, Momentum, g, g);
                else buf.CopyTo(g, 0);
            }
            TensorPrimitives.MultiplyAdd(g, -LearningRate, theta, theta);
        }
    }
}
