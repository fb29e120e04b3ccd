using System.Numerics.Tensors;

namespace RaySharp.Nn;

/// <summary>Updates parameters from their accumulated gradients.</summary>
public abstract class Optimizer
{
    private float _learningRate;

    /// <summary>Remembers the parameters to update (those without a gradient after a backward pass are skipped).</summary>
    /// <exception cref="ArgumentException">No parameters, a parameter that does not require gradients, or a bad learning rate.</exception>
    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (Parameters.Count == 0)
            throw new ArgumentException("An optimiser needs at least one parameter.", nameof(parameters));
        if (Parameters.Any(p => !p.RequiresGrad))
            throw new ArgumentException("Every parameter given to an optimiser must have RequiresGrad set.", nameof(parameters));
        LearningRate = learningRate;
    }

    /// <summary>The parameters this optimiser updates.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The step size; may be changed between steps (schedules).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, infinite or NaN.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value >= 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number >= 0.");
            _learningRate = value;
        }
    }

    /// <summary>Applies one update from the current gradients.</summary>
    public abstract void Step();

    /// <summary>
    /// Sets every gradient to zero (call before each backward pass). Buffers are kept and zeroed
    /// lazily (<see cref="Tensor.ZeroGrad"/>); parameters that then receive no gradient are skipped by
    /// <see cref="Step"/>.
    /// </summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    /// <summary>
    /// Scales all gradients together so that their global L2 norm is at most <paramref name="maxNorm"/>
    /// (PyTorch's <c>clip_grad_norm_</c>) and returns the norm before clipping.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive.</exception>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive.");
        var list = parameters.Where(p => !p.HasNoGrad).ToArray();
        var sq = 0.0;
        foreach (var p in list) sq += TensorPrimitives.SumOfSquares(p.Grad!.Span);
        var norm = (float)Math.Sqrt(sq);
        var scale = maxNorm / (norm + 1e-6f);
        if (scale < 1f)
            foreach (var p in list) TensorPrimitives.Multiply(p.Grad!.Span, scale, p.Grad.Span);
        return norm;
    }

    /// <summary><see cref="ClipGradNorm(IEnumerable{Tensor}, float)"/> over this optimiser's parameters.</summary>
    public float ClipGradNorm(float maxNorm) => ClipGradNorm(Parameters, maxNorm);
}
