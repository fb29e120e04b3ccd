namespace RaySharp.Nn;

/// <summary>
/// Multi-head scaled dot-product attention (PyTorch's <c>MultiheadAttention</c> with
/// <c>batch_first=True</c>): queries [N, L, E], keys and values [N, S, E]; each of
/// <see cref="Heads"/> heads attends with d = E/heads features, softmax(Q·Kᵀ/√d + mask)·V, and the
/// heads' results are concatenated and projected. Parameters as PyTorch names them:
/// <c>in_proj_weight</c> [3E, E] (Xavier-uniform), <c>in_proj_bias</c> [3E] (zeros),
/// <c>out_proj.weight</c>, <c>out_proj.bias</c> (zeros). Dropout applies to the attention weights in training mode.
/// </summary>
public sealed class MultiheadAttention : Module
{
    private readonly Dropout _dropout;

    /// <summary>Creates the layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, heads does not divide E, or dropout is outside [0, 1].</exception>
    public MultiheadAttention(int embedDim, int heads, float dropout = 0f, bool bias = true, Rng? rng = null)
    {
        if (embedDim <= 0 || heads <= 0 || embedDim % heads != 0)
            throw new ArgumentOutOfRangeException(nameof(heads), $"MultiheadAttention needs positive sizes with heads dividing embedDim; got embedDim {embedDim}, heads {heads}.");
        rng ??= Rng.Global;
        (EmbedDim, Heads) = (embedDim, heads);
        InProjWeight = RegisterParameter("in_proj_weight", Tensor.Zeros(3 * embedDim, embedDim));
        Init.XavierUniform(InProjWeight, rng);
        InProjBias = bias ? RegisterParameter("in_proj_bias", Tensor.Zeros(3 * embedDim)) : null;
        OutProj = RegisterModule("out_proj", new Linear(embedDim, embedDim, bias, rng));
        if (OutProj.Bias is not null) Init.Constant(OutProj.Bias, 0f);
        _dropout = new Dropout(dropout, rng.Fork());
        RegisterModule("dropout", _dropout);
    }

    /// <summary>Model dimension E.</summary>
    public int EmbedDim { get; }

    /// <summary>Number of heads.</summary>
    public int Heads { get; }

    /// <summary>Query, key and value projections stacked, [3E, E].</summary>
    public Tensor InProjWeight { get; }

    /// <summary>Their biases, [3E] (null without bias).</summary>
    public Tensor? InProjBias { get; }

    /// <summary>The output projection.</summary>
    public Linear OutProj { get; }

    /// <summary>Self-attention of <paramref name="input"/> [N, L, E] without a mask.</summary>
    public override Tensor Forward(Tensor input) => Forward(input, input, input).Output;

    /// <summary>
    /// Attends from <paramref name="query"/> to <paramref name="key"/>/<paramref name="value"/>;
    /// <paramref name="mask"/> [L, S] is added to the scores (−∞ blocks a position, see <see cref="CausalMask"/>).
    /// Returns the output [N, L, E] and the attention weights averaged over heads [N, L, S].
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public (Tensor Output, Tensor Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        int e = EmbedDim, h = Heads, d = e / h;
        if (query.Rank != 3 || key.Rank != 3 || value.Rank != 3 || query.Size(2) != e || key.Size(2) != e || value.Size(2) != e
            || key.Size(0) != query.Size(0) || value.Size(0) != query.Size(0) || key.Size(1) != value.Size(1))
            throw new ArgumentException($"MultiheadAttention({e}, {h}) needs query [N, L, {e}] and key, value [N, S, {e}]; got {Tensor.FormatShape(query.Shape)}, {Tensor.FormatShape(key.Shape)}, {Tensor.FormatShape(value.Shape)}.", nameof(query));
        int n = query.Size(0), l = query.Size(1), s = key.Size(1);
        if (mask is not null && (mask.Rank != 2 || mask.Size(0) != l || mask.Size(1) != s))
            throw new ArgumentException($"The attention mask must be [L, S] = [{l}, {s}]; got {Tensor.FormatShape(mask.Shape)}.", nameof(mask));
        var q = Project(query, 0).Reshape(n, l, h, d).Permute(0, 2, 1, 3);   // [N, h, L, d]
        var kT = Project(key, 1).Reshape(n, s, h, d).Permute(0, 2, 3, 1);    // [N, h, d, S]
        var v = Project(value, 2).Reshape(n, s, h, d).Permute(0, 2, 1, 3);   // [N, h, S, d]
        var scores = q.MatMul(kT) * (1f / MathF.Sqrt(d));
        if (mask is not null) scores += mask;
        var weights = scores.Softmax(-1);
        var context = _dropout.Forward(weights).MatMul(v).Permute(0, 2, 1, 3).Reshape(n, l, e);
        return (OutProj.Forward(context), weights.Mean(1));
    }

    /// <summary>An [L, L] mask that stops position i attending to positions after i (0 on and below the diagonal, −∞ above).</summary>
    public static Tensor CausalMask(int length)
    {
        var m = Tensor.Zeros(length, length);
        for (var i = 0; i < length; i++)
            for (var j = i + 1; j < length; j++) m[i, j] = float.NegativeInfinity;
        return m;
    }

    private Tensor Project(Tensor x, int which) =>
        Tensor.Linear(x, InProjWeight.Narrow(0, which * EmbedDim, EmbedDim), InProjBias?.Narrow(0, which * EmbedDim, EmbedDim));
}
