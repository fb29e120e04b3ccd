using System.Globalization;
using System.Text;

namespace RaySharp.Nn;

/// <summary>
/// A float32 tensor of rank 0 to 4 over contiguous row-major storage, with reverse-mode autodiff.
/// Operations return new tensors; when any input has <see cref="RequiresGrad"/> set (and gradient
/// recording is on, see <see cref="NoGrad"/>), the result remembers how it was made so that
/// <see cref="Backward(bool)"/> can fill <see cref="Grad"/> of every leaf that requires a gradient.
/// <see cref="Reshape"/>, <see cref="Slice"/>, <see cref="Select"/> and <see cref="Detach"/> are views
/// that share storage; every other operation copies.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>The largest rank a tensor may have.</summary>
    public const int MaxRank = 4;

    private readonly float[] _data;
    private readonly int _offset;
    private readonly int[] _shape;
    private bool _requiresGrad;

    internal Tensor(float[] data, int offset, int[] shape)
    {
        _data = data;
        _offset = offset;
        _shape = shape;
        Length = ShapeLength(shape);
    }

    internal Tensor(float[] data, int[] shape) : this(data, 0, shape)
    {
    }

    /// <summary>The size of each dimension (empty for a scalar).</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>The number of dimensions, 0 to <see cref="MaxRank"/>.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length { get; }

    /// <summary>
    /// Whether gradients flow to this tensor. Set it on leaves (parameters, inputs you differentiate
    /// with respect to); results of operations on such tensors have it set automatically.
    /// </summary>
    /// <exception cref="InvalidOperationException">Cleared on a tensor produced by a recorded operation.</exception>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!value && Node is not null)
                throw new InvalidOperationException("RequiresGrad cannot be cleared on the result of a recorded operation; call Detach() to get a tensor outside the graph.");
            _requiresGrad = value;
        }
    }

    /// <summary>
    /// The accumulated gradient after <see cref="Backward(bool)"/> (null until then); may be set, with a
    /// tensor of this tensor's shape, to seed or replace it.
    /// </summary>
    /// <exception cref="ArgumentException">The value's shape differs from this tensor's.</exception>
    public Tensor? Grad
    {
        get
        {
            if (_gradStale)
            {
                _grad!.Span.Clear();
                _gradStale = false;
            }
            return _grad;
        }
        set
        {
            if (value is not null && !SameShape(value._shape, _shape))
                throw new ArgumentException($"A gradient must have the tensor's shape {FormatShape(_shape)}; got {FormatShape(value._shape)}.", nameof(value));
            _grad = value;
            _gradStale = false;
            _gradPooled = false; // a replaced buffer is no longer ours to return to the pool
        }
    }

    /// <summary>
    /// True when no gradient has reached this tensor since it was created or since
    /// <see cref="ZeroGrad"/> (optimisers skip such parameters, as PyTorch does with <c>set_to_none</c>).
    /// </summary>
    public bool HasNoGrad => _grad is null || _gradStale;

    /// <summary>
    /// Makes the gradient zero without touching its buffer now: the next backward pass overwrites it
    /// instead of adding to it (so products write their result directly, with no memset first), and
    /// reading <see cref="Grad"/> before then gives zeros.
    /// </summary>
    public void ZeroGrad()
    {
        if (_grad is not null) _gradStale = true;
    }

    private bool _gradStale;

    private Tensor? _grad;

    /// <summary>True for tensors not produced by a recorded operation.</summary>
    public bool IsLeaf => Node is null;

    /// <summary>The elements, row-major. Writing them changes every view of the same storage.</summary>
    public Span<float> Span => _data.AsSpan(_offset, Length);

    /// <summary>The size of dimension <paramref name="dim"/>; negative values count from the end.</summary>
    public int Size(int dim) => _shape[NormalizeDim(dim, Rank, nameof(Size))];

    /// <summary>A copy of the elements, row-major.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>A copy of the shape.</summary>
    public int[] ShapeArray() => (int[])_shape.Clone();

    /// <summary>The value of a one-element tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor has more than one element.</exception>
    public float Item()
    {
        if (Length != 1)
            throw new InvalidOperationException($"Item() needs a tensor with one element, got shape {FormatShape(_shape)}.");
        return _data[_offset];
    }

    /// <summary>The element at the given index (one coordinate per dimension).</summary>
    /// <exception cref="ArgumentException">Wrong number of coordinates or a coordinate out of range.</exception>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public float this[params int[] index]
    {
        get => _data[_offset + FlatIndex(index)];
        set => _data[_offset + FlatIndex(index)] = value;
    }

    internal float[] Storage => _data;

    internal int Offset => _offset;

    internal int[] ShapeRef => _shape;

    // ---- factories ----

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape) => new(new float[CheckShape(shape)], (int[])shape.Clone());

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(1f, shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        var data = new float[CheckShape(shape)];
        Array.Fill(data, value);
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>A rank-0 tensor holding <paramref name="value"/>.</summary>
    public static Tensor Scalar(float value) => new([value], []);

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    /// <exception cref="ArgumentException">The shape does not hold exactly <c>data.Length</c> elements.</exception>
    public static Tensor FromArray(ReadOnlySpan<float> data, params int[] shape)
    {
        var n = CheckShape(shape);
        if (n != data.Length)
            throw new ArgumentException($"Shape {FormatShape(shape)} holds {n} elements but {data.Length} were given.", nameof(shape));
        return new Tensor(data.ToArray(), (int[])shape.Clone());
    }

    /// <summary>
    /// A tensor over <paramref name="data"/> itself, without copying: later writes to the array show
    /// in the tensor. For reusing buffers on hot paths (replay batches, environment observations).
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not hold exactly <c>data.Length</c> elements.</exception>
    public static Tensor Wrap(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        var n = CheckShape(shape);
        if (n != data.Length)
            throw new ArgumentException($"Shape {FormatShape(shape)} holds {n} elements but the array has {data.Length}.", nameof(shape));
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>A 1-D tensor of <paramref name="values"/> (a copy).</summary>
    public static Tensor Vector(params float[] values) => FromArray(values, values.Length);

    /// <summary>Samples from the standard normal distribution, scaled by <paramref name="std"/>.</summary>
    public static Tensor Randn(Rng rng, int[] shape, float std = 1f)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var data = new float[CheckShape(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)rng.NextNormal() * std;
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>Samples uniformly from [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor Uniform(Rng rng, float low, float high, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var data = new float[CheckShape(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = rng.Uniform(low, high);
        return new Tensor(data, (int[])shape.Clone());
    }

    /// <summary>A tensor of the same shape as this one, filled with zeros.</summary>
    public Tensor ZerosLike() => new(new float[Length], (int[])_shape.Clone());

    /// <summary>A copy of this tensor outside the graph (no gradient history).</summary>
    public Tensor Clone() => new(Span.ToArray(), (int[])_shape.Clone());

    /// <summary>Copies the elements of <paramref name="source"/> (same shape) into this tensor.</summary>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public void CopyFrom(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!SameShape(source._shape, _shape))
            throw new ArgumentException($"CopyFrom needs equal shapes: this is {FormatShape(_shape)}, source is {FormatShape(source._shape)}.", nameof(source));
        source.Span.CopyTo(Span);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var sb = new StringBuilder("Tensor").Append(FormatShape(_shape)).Append(' ');
        var span = Span;
        sb.Append('[');
        for (var i = 0; i < Math.Min(span.Length, 16); i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(span[i].ToString("G6", CultureInfo.InvariantCulture));
        }
        if (span.Length > 16) sb.Append(", …");
        return sb.Append(']').ToString();
    }

    // ---- shape helpers ----

    internal static string FormatShape(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i]);
        }
        return sb.Append(']').ToString();
    }

    internal static bool SameShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.SequenceEqual(b);

    internal static int ShapeLength(ReadOnlySpan<int> shape)
    {
        var n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    internal static int CheckShape(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length > MaxRank)
            throw new ArgumentException($"Tensors have at most {MaxRank} dimensions, got shape {FormatShape(shape)}.", nameof(shape));
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"Dimensions must be non-negative, got shape {FormatShape(shape)}.", nameof(shape));
            n *= d;
        }
        if (n > Array.MaxLength)
            throw new ArgumentException($"Shape {FormatShape(shape)} has {n} elements, more than one array can hold.", nameof(shape));
        return (int)n;
    }

    internal static int NormalizeDim(int dim, int rank, string op)
    {
        var d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= Math.Max(rank, 1) || (rank == 0))
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"{op}: dimension {dim} is out of range for a rank-{rank} tensor.");
        return d;
    }

    private int FlatIndex(int[] index)
    {
        if (index.Length != Rank)
            throw new ArgumentException($"Index has {index.Length} coordinates but the tensor has shape {FormatShape(_shape)}.", nameof(index));
        var flat = 0;
        for (var i = 0; i < index.Length; i++)
        {
            if ((uint)index[i] >= (uint)_shape[i])
                throw new ArgumentException($"Index {FormatShape(index)} is out of range for shape {FormatShape(_shape)}.", nameof(index));
            flat = flat * _shape[i] + index[i];
        }
        return flat;
    }
}
