using System.Numerics.Tensors;

namespace RaySharp.Nn;

/// <summary>How one recorded result passes its gradient back to its inputs.</summary>
internal sealed class GradNode(Tensor[] inputs, Action<Tensor> backward)
{
    public Tensor[] Inputs { get; } = inputs;

    /// <summary>Called with the result (whose <see cref="Tensor.Grad"/> is set).</summary>
    public Action<Tensor> Backward { get; } = backward;
}

public sealed partial class Tensor
{
    [ThreadStatic]
    private static int _noGradDepth;

    internal GradNode? Node { get; private set; }

    /// <summary>Whether operations on this thread are being recorded for autodiff.</summary>
    public static bool IsGradEnabled => _noGradDepth == 0;

    /// <summary>
    /// Stops recording on this thread until the returned scope is disposed (inference, target
    /// networks, optimiser updates): <c>using var _ = Tensor.NoGrad();</c>.
    /// </summary>
    public static NoGradScope NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope(true);
    }

    internal static void ExitNoGrad() => _noGradDepth--;

    /// <summary>A view of the same storage with no gradient history.</summary>
    public Tensor Detach() => new(_data, _offset, _shape);

    /// <summary>
    /// Back-propagates from this one-element tensor (usually a loss): adds d(this)/d(leaf) to
    /// <see cref="Grad"/> of every leaf that requires a gradient.
    /// </summary>
    /// <param name="retainGraph">
    /// Keep the graph usable for another backward pass. By default (as in PyTorch) the hidden
    /// activations that <see cref="Mlp"/> keeps for its backward pass go back to a pool afterwards,
    /// and a second backward pass through those layers throws; pass true to the earlier pass(es) when
    /// the same graph is to be back-propagated again.
    /// </param>
    /// <exception cref="InvalidOperationException">
    /// The tensor has more than one element or no gradient history, or the graph's activations were
    /// freed by an earlier backward pass.
    /// </exception>
    public void Backward(bool retainGraph = false)
    {
        if (Length != 1)
            throw new InvalidOperationException($"Backward() without a gradient needs a one-element tensor, got shape {FormatShape(_shape)}; pass the output gradient explicitly.");
        Backward(Full(1f, _shape), retainGraph);
    }

    /// <summary>Back-propagates <paramref name="gradient"/> (the gradient of some scalar with respect to this tensor).</summary>
    /// <param name="gradient">d(scalar)/d(this), of this tensor's shape.</param>
    /// <param name="retainGraph">As for <see cref="Backward(bool)"/>.</param>
    /// <exception cref="ArgumentException">The gradient's shape differs from this tensor's.</exception>
    /// <exception cref="InvalidOperationException">
    /// This tensor does not require a gradient, or the graph's activations were freed by an earlier
    /// backward pass.
    /// </exception>
    public void Backward(Tensor gradient, bool retainGraph = false)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        if (!RequiresGrad)
            throw new InvalidOperationException("Backward() was called on a tensor that does not require a gradient; set RequiresGrad on the parameters or inputs before computing it.");
        if (!SameShape(gradient._shape, _shape))
            throw new ArgumentException($"Backward gradient has shape {FormatShape(gradient._shape)} but the tensor has shape {FormatShape(_shape)}.", nameof(gradient));

        var order = TopologicalOrder(this);
        foreach (var t in order)
            if (t.Node is not null && (t._storageReleased || Array.Exists(t.Node.Inputs, i => i._storageReleased)))
                throw new InvalidOperationException("Backward() reached activations that an earlier backward pass through the same graph already freed; pass retainGraph: true to the earlier Backward call(s) to back-propagate a graph more than once.");
        TensorPrimitives.Add(GradSpan(), gradient.Span, GradSpan());
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var t = order[i];
            if (t.Node is null || t.Grad is null)
                continue;
            t.Node.Backward(t);
            // Intermediate gradients are not kept (PyTorch's default); their buffers go back to the pool.
            if (t._gradPooled) System.Buffers.ArrayPool<float>.Shared.Return(t.Grad.Storage);
            t._gradPooled = false;
            t.Grad = null;
        }
        if (!retainGraph)
            foreach (var t in order) t.ReleaseHiddenStorage();
    }

    /// <summary>
    /// Set on a hidden activation whose storage was rented from <see cref="System.Buffers.ArrayPool{T}"/>:
    /// only the layer that consumes it and the graph ever read it (see <see cref="Mlp"/>), so it goes
    /// back to the pool when no recorded operation reads it, or after a backward pass.
    /// </summary>
    internal bool HiddenPooled { get; init; }

    private bool _storageReleased;

    /// <summary>Returns a pooled hidden activation's storage (once); later backward passes that reach it throw.</summary>
    internal void ReleaseHiddenStorage()
    {
        if (!HiddenPooled || _storageReleased) return;
        _storageReleased = true;
        System.Buffers.ArrayPool<float>.Shared.Return(_data);
    }

    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            var (t, next) = stack.Pop();
            var inputs = t.Node?.Inputs ?? [];
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                var child = inputs[next];
                if (child.RequiresGrad && visited.Add(child))
                    stack.Push((child, 0));
            }
            else
            {
                order.Add(t);
            }
        }
        return order;
    }

    /// <summary>This tensor's gradient buffer, allocated (zeros) on first use.</summary>
    internal Span<float> GradSpan()
    {
        var span = GradSpan(out var fresh);
        if (fresh) span.Clear();
        return span;
    }

    /// <summary>
    /// This tensor's gradient buffer; when <paramref name="fresh"/> is true it was just created and
    /// holds garbage, so the caller must overwrite (not accumulate into) every element.
    /// </summary>
    internal Span<float> GradSpan(out bool fresh)
    {
        if (_grad is not null)
        {
            fresh = _gradStale;
            _gradStale = false;
            return _grad.Span;
        }
        fresh = true;
        if (Node is null)
        {
            Grad = new Tensor(GC.AllocateUninitializedArray<float>(Length), (int[])_shape.Clone());
        }
        else
        {
            // An intermediate's gradient lives only during Backward: rent it (large batches would
            // otherwise allocate and zero megabytes of short-lived arrays every step).
            Grad = new Tensor(System.Buffers.ArrayPool<float>.Shared.Rent(Length), 0, (int[])_shape.Clone());
            _gradPooled = true;
        }
        return _grad!.Span;
    }

    private bool _gradPooled;

    internal static bool Tracks(Tensor a) => a._requiresGrad && _noGradDepth == 0;

    internal static bool Tracks(Tensor a, Tensor b) => (a._requiresGrad || b._requiresGrad) && _noGradDepth == 0;

    /// <summary>Marks <paramref name="result"/> as produced from <paramref name="inputs"/>.</summary>
    internal static Tensor Record(Tensor result, Tensor[] inputs, Action<Tensor> backward)
    {
        result._requiresGrad = true;
        result.Node = new GradNode(inputs, backward);
        return result;
    }

    // ---- views ----

    /// <summary>
    /// A view with a new shape holding the same elements (row-major order). One dimension may be -1
    /// and is inferred.
    /// </summary>
    /// <exception cref="ArgumentException">The new shape holds a different number of elements.</exception>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var resolved = (int[])shape.Clone();
        var infer = Array.IndexOf(resolved, -1);
        if (infer >= 0)
        {
            var known = 1;
            for (var i = 0; i < resolved.Length; i++)
                if (i != infer) known *= resolved[i];
            if (known == 0 || Length % known != 0 || Array.IndexOf(resolved, -1, infer + 1) >= 0)
                throw new ArgumentException($"Cannot reshape {FormatShape(_shape)} to {FormatShape(shape)}.", nameof(shape));
            resolved[infer] = Length / known;
        }
        if (CheckShape(resolved) != Length)
            throw new ArgumentException($"Cannot reshape {FormatShape(_shape)} ({Length} elements) to {FormatShape(shape)}.", nameof(shape));
        var view = new Tensor(_data, _offset, resolved);
        return Tracks(this) ? Record(view, [this], o => TensorPrimitives.Add(GradSpan(), o.Grad!.Span, GradSpan())) : view;
    }

    /// <summary>A view flattening all dimensions after the first: [N, …] → [N, rest].</summary>
    public Tensor Flatten() => Rank <= 1 ? Reshape(Length) : Reshape(_shape[0], Length / Math.Max(_shape[0], 1));

    /// <summary>
    /// A view of rows <paramref name="start"/> … <paramref name="start"/>+<paramref name="length"/>-1
    /// along the first dimension (contiguous, so no copy).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the first dimension.</exception>
    public Tensor Slice(int start, int length)
    {
        if (Rank == 0)
            throw new InvalidOperationException("Slice needs a tensor of rank 1 or more, got a scalar.");
        if (start < 0 || length < 0 || start + length > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice({start}, {length}) is outside the first dimension of shape {FormatShape(_shape)}.");
        var shape = (int[])_shape.Clone();
        shape[0] = length;
        var rowSize = _shape[0] == 0 ? 0 : Length / _shape[0];
        var view = new Tensor(_data, _offset + start * rowSize, shape);
        if (!Tracks(this))
            return view;
        return Record(view, [this], o =>
        {
            var g = GradSpan().Slice(start * rowSize, length * rowSize);
            TensorPrimitives.Add(g, o.Grad!.Span, g);
        });
    }

    /// <summary>Row <paramref name="index"/> of the first dimension, with that dimension removed (a view).</summary>
    public Tensor Select(int index)
    {
        var rows = Slice(index, 1);
        return rows.Reshape(_shape[1..]);
    }
}

/// <summary>The scope returned by <see cref="Tensor.NoGrad"/>; dispose it to resume recording.</summary>
public readonly struct NoGradScope : IDisposable
{
    private readonly bool _active;

    internal NoGradScope(bool active) => _active = active;

    /// <summary>Resumes recording (if this scope paused it).</summary>
    public void Dispose()
    {
        if (_active) Tensor.ExitNoGrad();
    }
}
