namespace RaySharp.Nn;

/// <summary>
/// A layer or model: named parameters (tensors with <see cref="Tensor.RequiresGrad"/>) and named
/// submodules, and a forward pass. Parameter names are dotted paths as in PyTorch
/// (<c>layers.0.weight</c>), which is what <see cref="Safetensors"/> files and ONNX exports use.
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Tensor Value)> _parameters = [];
    private readonly List<(string Name, Module Value)> _children = [];
    private readonly List<(string Name, Tensor Value)> _buffers = [];

    /// <summary>
    /// Whether the module is in training mode (the default): <see cref="Dropout"/> drops and batch
    /// normalisation uses and updates batch statistics; in evaluation mode they are the identity and
    /// the running statistics respectively. Set for a whole tree by <see cref="Train"/> and <see cref="Eval"/>.
    /// </summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>Puts this module and every submodule in training mode (or evaluation mode with <c>false</c>); returns this module.</summary>
    public Module Train(bool training = true)
    {
        IsTraining = training;
        foreach (var (_, child) in _children) child.Train(training);
        return this;
    }

    /// <summary>
    /// Runs <paramref name="body"/> with this module tree in evaluation mode, then gives every module
    /// back the mode it had (ONNX export traces the inference graph without touching running statistics).
    /// </summary>
    internal T InEvalMode<T>(Func<T> body)
    {
        var modes = new List<(Module, bool)>();
        void Visit(Module m)
        {
            modes.Add((m, m.IsTraining));
            foreach (var (_, child) in m._children) Visit(child);
        }
        Visit(this);
        Eval();
        try
        {
            return body();
        }
        finally
        {
            foreach (var (m, training) in modes) m.IsTraining = training;
        }
    }

    /// <summary>Puts this module and every submodule in evaluation mode (<c>Train(false)</c>); returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>Computes the module's output for <paramref name="input"/>.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Every parameter, depth-first in registration order, with its dotted name.</summary>
    public IReadOnlyList<(string Name, Tensor Value)> NamedParameters()
    {
        var list = new List<(string, Tensor)>();
        Collect("", list);
        return list;
    }

    /// <summary>
    /// Every buffer (state that is saved with the parameters but not trained, such as batch
    /// normalisation's running statistics), depth-first in registration order, with its dotted name.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> NamedBuffers()
    {
        var list = new List<(string, Tensor)>();
        CollectBuffers("", list);
        return list;
    }

    /// <summary>
    /// Parameters then buffers with their dotted names: what <see cref="Save(string)"/> writes and
    /// <see cref="Load(string)"/> reads (PyTorch's <c>state_dict</c>).
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> StateTensors() => [.. NamedParameters(), .. NamedBuffers()];

    /// <summary>Every parameter, depth-first in registration order (what an optimiser is given).</summary>
    public IReadOnlyList<Tensor> Parameters() => NamedParameters().Select(p => p.Value).ToArray();

    /// <summary>The total number of parameter elements.</summary>
    public long ParameterCount() => NamedParameters().Sum(p => (long)p.Value.Length);

    /// <summary>
    /// Copies every parameter value from <paramref name="source"/>, a module of the same structure
    /// (DQN's target network).
    /// </summary>
    /// <exception cref="ArgumentException">The modules' parameter names or shapes differ.</exception>
    public void CopyParametersFrom(Module source) => SoftUpdateFrom(source, 1f);

    /// <summary>
    /// Polyak averaging: each parameter becomes (1-<paramref name="tau"/>)·itself + <paramref name="tau"/>·source
    /// (the target networks of DDPG, TD3 and SAC).
    /// </summary>
    /// <exception cref="ArgumentException">The structures differ or <paramref name="tau"/> is outside [0, 1].</exception>
    public void SoftUpdateFrom(Module source, float tau)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (tau is < 0 or > 1 || float.IsNaN(tau))
            throw new ArgumentException($"tau must be in [0, 1], got {tau}.", nameof(tau));
        var mine = NamedParameters();
        var theirs = source.NamedParameters();
        if (mine.Count != theirs.Count)
            throw new ArgumentException($"Modules differ: this has {mine.Count} parameters, source has {theirs.Count}.", nameof(source));
        for (var i = 0; i < mine.Count; i++)
        {
            var (name, dst) = mine[i];
            var (srcName, src) = theirs[i];
            if (name != srcName || !Tensor.SameShape(dst.Shape, src.Shape))
                throw new ArgumentException($"Parameter {i} differs: this has '{name}' {Tensor.FormatShape(dst.Shape)}, source has '{srcName}' {Tensor.FormatShape(src.Shape)}.", nameof(source));
            if (tau == 1f)
            {
                src.Span.CopyTo(dst.Span);
            }
            else
            {
                var d = dst.Span;
                System.Numerics.Tensors.TensorPrimitives.Multiply(d, 1f - tau, d);
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src.Span, tau, d, d);
            }
        }
    }

    /// <summary>Saves every parameter and buffer (<see cref="StateTensors"/>) to a safetensors file.</summary>
    public void Save(string path) => Safetensors.Save(path, StateTensors());

    /// <summary>Writes every parameter and buffer (<see cref="StateTensors"/>) to <paramref name="stream"/> as safetensors.</summary>
    public void Save(Stream stream) => Safetensors.Save(stream, StateTensors());

    /// <summary>Loads every parameter and buffer from a safetensors file written for a module of the same structure.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing from the file or has another shape.</exception>
    public void Load(string path) => LoadState(Safetensors.Load(path), $"'{path}'");

    /// <summary>Loads every parameter and buffer from safetensors data read from <paramref name="stream"/>.</summary>
    /// <exception cref="InvalidDataException">A tensor is missing from the data or has another shape.</exception>
    public void Load(Stream stream) => LoadState(Safetensors.Load(stream), "the stream");

    /// <summary>
    /// Copies every parameter and buffer from <paramref name="state"/> (name → tensor, as
    /// <see cref="Safetensors.Load(string)"/> returns); entries the module does not have are ignored.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor is missing or has another shape.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, string source = "the state")
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (name, p) in StateTensors())
        {
            if (!state.TryGetValue(name, out var t))
                throw new InvalidDataException($"{source} has no tensor '{name}' (it has: {string.Join(", ", state.Keys)}).");
            if (!Tensor.SameShape(t.Shape, p.Shape))
                throw new InvalidDataException($"{source} holds '{name}' with shape {Tensor.FormatShape(t.Shape)}, but the module's tensor is {Tensor.FormatShape(p.Shape)}.");
            t.Span.CopyTo(p.Span);
        }
    }

    /// <summary>Registers a parameter (sets <see cref="Tensor.RequiresGrad"/>) and returns it.</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        value.RequiresGrad = true;
        _parameters.Add((name, value));
        return value;
    }

    /// <summary>Registers a buffer (state saved with the parameters, not trained) and returns it.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _buffers.Add((name, value));
        return value;
    }

    /// <summary>Registers a submodule whose parameters are listed under <paramref name="name"/>.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        _children.Add((name, module));
        return module;
    }

    private void Collect(string prefix, List<(string, Tensor)> list)
    {
        foreach (var (name, value) in _parameters) list.Add((prefix + name, value));
        foreach (var (name, child) in _children) child.Collect(prefix + name + ".", list);
    }

    private void CollectBuffers(string prefix, List<(string, Tensor)> list)
    {
        foreach (var (name, value) in _buffers) list.Add((prefix + name, value));
        foreach (var (name, child) in _children) child.CollectBuffers(prefix + name + ".", list);
    }
}
