namespace RaySharp.Nn;

/// <summary>
/// A Transformer encoder block (PyTorch's <c>TransformerEncoderLayer</c>, batch first): self-attention
/// and a feed-forward network (Linear → activation → Linear), each with dropout, a residual
/// connection and layer normalisation — after the residual by default, before each sub-block with
/// <see cref="NormFirst"/>. Input and output [N, L, dModel].
/// </summary>
public sealed class TransformerEncoderLayer : Module
{
    private readonly Dropout _dropout;
    private readonly Dropout _dropout1;
    private readonly Dropout _dropout2;

    /// <summary>Creates the block with PyTorch's defaults (feed-forward 2048, dropout 0.1, ReLU, post-norm).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, heads does not divide dModel, or dropout is outside [0, 1].</exception>
    public TransformerEncoderLayer(int dModel, int heads, int dimFeedforward = 2048, float dropout = 0.1f,
        Activation activation = Activation.ReLU, float layerNormEps = 1e-5f, bool normFirst = false, Rng? rng = null)
    {
        rng ??= Rng.Global;
        SelfAttention = RegisterModule("self_attn", new MultiheadAttention(dModel, heads, dropout, rng: rng));
        Linear1 = RegisterModule("linear1", new Linear(dModel, dimFeedforward, rng: rng));
        _dropout = RegisterModule("dropout", new Dropout(dropout, rng.Fork()));
        Linear2 = RegisterModule("linear2", new Linear(dimFeedforward, dModel, rng: rng));
        Norm1 = RegisterModule("norm1", new LayerNorm(dModel, layerNormEps));
        Norm2 = RegisterModule("norm2", new LayerNorm(dModel, layerNormEps));
        _dropout1 = RegisterModule("dropout1", new Dropout(dropout, rng.Fork()));
        _dropout2 = RegisterModule("dropout2", new Dropout(dropout, rng.Fork()));
        (Activation, NormFirst) = (activation, normFirst);
    }

    /// <summary>The self-attention sub-block.</summary>
    public MultiheadAttention SelfAttention { get; }

    /// <summary>First feed-forward layer, dModel → dimFeedforward.</summary>
    public Linear Linear1 { get; }

    /// <summary>Second feed-forward layer, dimFeedforward → dModel.</summary>
    public Linear Linear2 { get; }

    /// <summary>Normalisation around the attention sub-block.</summary>
    public LayerNorm Norm1 { get; }

    /// <summary>Normalisation around the feed-forward sub-block.</summary>
    public LayerNorm Norm2 { get; }

    /// <summary>The feed-forward activation.</summary>
    public Activation Activation { get; }

    /// <summary>Whether each sub-block normalises its input (pre-norm) instead of the residual sum.</summary>
    public bool NormFirst { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>The block applied to <paramref name="input"/> [N, L, dModel] with an optional [L, L] attention mask.</summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public Tensor Forward(Tensor input, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = input;
        if (NormFirst)
        {
            x += Attend(Norm1.Forward(x), mask);
            return x + FeedForward(Norm2.Forward(x));
        }
        x = Norm1.Forward(x + Attend(x, mask));
        return Norm2.Forward(x + FeedForward(x));
    }

    private Tensor Attend(Tensor x, Tensor? mask) => _dropout1.Forward(SelfAttention.Forward(x, x, x, mask).Output);

    private Tensor FeedForward(Tensor x) => _dropout2.Forward(Linear2.Forward(_dropout.Forward(Linear1.Forward(x).Apply(Activation))));
}
