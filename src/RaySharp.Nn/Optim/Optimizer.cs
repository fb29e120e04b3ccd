using System.Globalization;
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
    /// The optimiser's state tensors (PyTorch's <c>state_dict()["state"]</c>), named
    /// <c>{parameter index}.{kind}</c>: <c>exp_avg</c> and <c>exp_avg_sq</c> for Adam, <c>momentum_buffer</c>
    /// for SGD with momentum. The tensors share storage with the optimiser (copy them to keep a snapshot).
    /// </summary>
    public virtual IReadOnlyList<(string Name, Tensor Value)> StateTensors() => [];

    /// <summary>
    /// The optimiser's scalar state as invariant strings: <c>type</c> (the class name), <c>lr</c> (the
    /// current learning rate, which a schedule may have changed) and, for Adam, <c>step</c>.
    /// </summary>
    public virtual IReadOnlyDictionary<string, string> StateValues() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["type"] = GetType().Name,
        ["lr"] = LearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["params"] = Parameters.Count.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>
    /// Restores the state written by <see cref="StateTensors"/> and <see cref="StateValues"/> of an
    /// optimiser of the same type over parameters of the same shapes, so that the next
    /// <see cref="Step"/> is the one the saved optimiser would have taken.
    /// </summary>
    /// <exception cref="InvalidDataException">The state is of another optimiser type, or a tensor is missing or has another shape.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(values);
        var type = values.GetValueOrDefault("type");
        if (type != GetType().Name)
            throw new InvalidDataException($"The optimiser state is for {type ?? "an unknown optimiser"}, not {GetType().Name}.");
        if (values.GetValueOrDefault("params") != Parameters.Count.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"The optimiser state is for {values.GetValueOrDefault("params") ?? "an unknown number of"} parameters; this optimiser has {Parameters.Count}.");
        LearningRate = ReadFloat(values, "lr");
        LoadStateCore(tensors, values);
    }

    /// <summary>Writes <see cref="StateTensors"/> and <see cref="StateValues"/> to <paramref name="stream"/> as safetensors (values as metadata).</summary>
    public void SaveState(Stream stream) => Safetensors.Save(stream, StateTensors(), StateValues());

    /// <summary>Reads state written by <see cref="SaveState(Stream)"/>.</summary>
    /// <exception cref="InvalidDataException">The data is not an optimiser state for this optimiser and its parameters.</exception>
    public void LoadState(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        var data = bytes.ToArray();
        LoadState(Safetensors.Load(data), Safetensors.ReadMetadata(data));
    }

    /// <summary>Restores the type-specific state (the type and learning rate are already checked and set).</summary>
    private protected virtual void LoadStateCore(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> values)
    {
    }

    /// <summary>Copies state tensor <paramref name="name"/> into <paramref name="destination"/> (the shape of parameter <paramref name="index"/>).</summary>
    private protected void ReadStateTensor(IReadOnlyDictionary<string, Tensor> tensors, string name, int index, Span<float> destination)
    {
        if (!tensors.TryGetValue(name, out var t))
            throw new InvalidDataException($"The optimiser state has no tensor '{name}' (it has: {string.Join(", ", tensors.Keys)}).");
        if (!Tensor.SameShape(t.Shape, Parameters[index].Shape))
            throw new InvalidDataException($"The optimiser state's '{name}' has shape {Tensor.FormatShape(t.Shape)}, but parameter {index} is {Tensor.FormatShape(Parameters[index].Shape)}.");
        t.Span.CopyTo(destination);
    }

    private protected static float ReadFloat(IReadOnlyDictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var s) && float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidDataException($"The optimiser state has no valid '{key}' value.");

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
