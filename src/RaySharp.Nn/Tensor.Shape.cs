using System.Numerics.Tensors;

namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>
    /// Elements <paramref name="start"/> … <paramref name="start"/>+<paramref name="length"/>-1 along
    /// <paramref name="dim"/> (a copy unless <paramref name="dim"/> is the first; see <see cref="Slice"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the dimension.</exception>
    public Tensor Narrow(int dim, int start, int length)
    {
        var d = NormalizeDim(dim, Rank, "Narrow");
        if (start < 0 || length < 0 || start + length > _shape[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow(dim {dim}, start {start}, length {length}) is outside shape {FormatShape(_shape)}.");
        if (d == 0) return Slice(start, length);
        var (outer, n, inner) = Split(d, "Narrow");
        var shape = (int[])_shape.Clone();
        shape[d] = length;
        var o = new Tensor(new float[outer * length * inner], shape);
        var x = Span;
        var y = o.Span;
        var chunk = length * inner;
        for (var a = 0; a < outer; a++)
            x.Slice((a * n + start) * inner, chunk).CopyTo(y.Slice(a * chunk, chunk));
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var dst = GradSpan();
            for (var a = 0; a < outer; a++)
            {
                var t = dst.Slice((a * n + start) * inner, chunk);
                TensorPrimitives.Add(t, g.Slice(a * chunk, chunk), t);
            }
        }) : o;
    }

    /// <summary>Joins tensors along <paramref name="dim"/>; all other dimensions must match.</summary>
    /// <exception cref="ArgumentException">No tensors, or their shapes differ outside <paramref name="dim"/>.</exception>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0)
            throw new ArgumentException("Concat needs at least one tensor.", nameof(tensors));
        var first = tensors[0];
        var d = NormalizeDim(dim, first.Rank, "Concat");
        var shape = (int[])first._shape.Clone();
        shape[d] = 0;
        foreach (var t in tensors)
        {
            var ok = t.Rank == first.Rank;
            for (var i = 0; ok && i < t.Rank; i++) ok = i == d || t._shape[i] == first._shape[i];
            if (!ok)
                throw new ArgumentException($"Concat along dimension {dim}: shapes {FormatShape(first._shape)} and {FormatShape(t._shape)} differ outside that dimension.", nameof(tensors));
            shape[d] += t._shape[d];
        }
        var o = new Tensor(new float[ShapeLength(shape)], shape);
        var (outer, total, inner) = o.Split(d, "Concat");
        var y = o.Span;
        var offset = 0;
        var parts = tensors.ToArray();
        foreach (var t in parts)
        {
            var chunk = t._shape[d] * inner;
            var x = t.Span;
            for (var a = 0; a < outer; a++)
                x.Slice(a * chunk, chunk).CopyTo(y.Slice(a * total * inner + offset * inner, chunk));
            offset += t._shape[d];
        }
        if (!IsGradEnabled || !Array.Exists(parts, t => t.RequiresGrad)) return o;
        return Record(o, parts, r =>
        {
            var g = r.Grad!.Span;
            var off = 0;
            foreach (var t in parts)
            {
                var chunk = t._shape[d] * inner;
                if (t.RequiresGrad)
                {
                    var dst = t.GradSpan();
                    for (var a = 0; a < outer; a++)
                    {
                        var s = dst.Slice(a * chunk, chunk);
                        TensorPrimitives.Add(s, g.Slice(a * total * inner + off * inner, chunk), s);
                    }
                }
                off += t._shape[d];
            }
        });
    }

    /// <summary>Swaps two dimensions (a copy).</summary>
    public Tensor Transpose(int dim0 = 0, int dim1 = 1)
    {
        var d0 = NormalizeDim(dim0, Rank, "Transpose");
        var d1 = NormalizeDim(dim1, Rank, "Transpose");
        var perm = new int[Rank];
        for (var i = 0; i < Rank; i++) perm[i] = i;
        (perm[d0], perm[d1]) = (perm[d1], perm[d0]);
        return Permute(perm);
    }

    /// <summary>Reorders dimensions: result dimension i is this tensor's dimension <c>perm[i]</c> (a copy).</summary>
    /// <exception cref="ArgumentException"><paramref name="perm"/> is not a permutation of 0 … rank-1.</exception>
    public Tensor Permute(params int[] perm)
    {
        ArgumentNullException.ThrowIfNull(perm);
        if (perm.Length != Rank || perm.Distinct().Count() != Rank || perm.Any(p => p < 0 || p >= Rank))
            throw new ArgumentException($"Permute needs a permutation of 0..{Rank - 1} for shape {FormatShape(_shape)}, got {FormatShape(perm)}.", nameof(perm));
        var shape = new int[Rank];
        for (var i = 0; i < Rank; i++) shape[i] = _shape[perm[i]];
        var o = new Tensor(new float[Length], shape);
        var map = PermuteMap(perm);
        var x = Span;
        var y = o.Span;
        for (var i = 0; i < map.Length; i++) y[i] = x[map[i]];
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var d = GradSpan();
            for (var i = 0; i < map.Length; i++) d[map[i]] += g[i];
        }) : o;
    }

    /// <summary>
    /// For a [N, C] tensor, element <c>index[i]</c> of row i, as an [N] tensor (the Q-value of each
    /// taken action, the log-probability of each label).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not 2-D, the index count differs from N, or an index is out of range.</exception>
    public Tensor Gather(ReadOnlySpan<int> index)
    {
        if (Rank != 2 || index.Length != _shape[0])
            throw new ArgumentException($"Gather needs a [N, C] tensor and N indices: got shape {FormatShape(_shape)} and {index.Length} indices.", nameof(index));
        var (rows, cols) = (_shape[0], _shape[1]);
        var idx = index.ToArray();
        var o = new Tensor(new float[rows], [rows]);
        var x = Span;
        for (var i = 0; i < rows; i++)
        {
            if ((uint)idx[i] >= (uint)cols)
                throw new ArgumentException($"Gather index {idx[i]} at row {i} is out of range for shape {FormatShape(_shape)}.", nameof(index));
            o.Span[i] = x[i * cols + idx[i]];
        }
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var d = GradSpan();
            for (var i = 0; i < rows; i++) d[i * cols + idx[i]] += g[i];
        }) : o;
    }

    /// <summary>Rows <paramref name="rows"/> of the first dimension, in that order (a copy; minibatch sampling).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A row index is out of range.</exception>
    public Tensor IndexSelect(ReadOnlySpan<int> rows)
    {
        if (Rank == 0)
            throw new InvalidOperationException("IndexSelect needs a tensor of rank 1 or more, got a scalar.");
        var rowSize = _shape[0] == 0 ? 0 : Length / _shape[0];
        var idx = rows.ToArray();
        var shape = (int[])_shape.Clone();
        shape[0] = idx.Length;
        var o = new Tensor(new float[idx.Length * rowSize], shape);
        var x = Span;
        for (var i = 0; i < idx.Length; i++)
        {
            if ((uint)idx[i] >= (uint)_shape[0])
                throw new ArgumentOutOfRangeException(nameof(rows), $"IndexSelect row {idx[i]} is out of range for shape {FormatShape(_shape)}.");
            x.Slice(idx[i] * rowSize, rowSize).CopyTo(o.Span.Slice(i * rowSize, rowSize));
        }
        return Tracks(this) ? Record(o, [this], r =>
        {
            var g = r.Grad!.Span;
            var d = GradSpan();
            for (var i = 0; i < idx.Length; i++)
            {
                var s = d.Slice(idx[i] * rowSize, rowSize);
                TensorPrimitives.Add(s, g.Slice(i * rowSize, rowSize), s);
            }
        }) : o;
    }

    /// <summary>For each position of the permuted tensor, the source position in this one.</summary>
    private int[] PermuteMap(int[] perm)
    {
        Span<int> srcStride = stackalloc int[MaxRank];
        var s = 1;
        for (var i = Rank - 1; i >= 0; i--)
        {
            srcStride[i] = s;
            s *= _shape[i];
        }
        Span<int> dims = stackalloc int[MaxRank];
        Span<int> st = stackalloc int[MaxRank];
        dims.Fill(1);
        st.Clear();
        var pad = MaxRank - Rank;
        for (var i = 0; i < Rank; i++)
        {
            dims[pad + i] = _shape[perm[i]];
            st[pad + i] = srcStride[perm[i]];
        }
        var map = new int[Length];
        var k = 0;
        for (var i0 = 0; i0 < dims[0]; i0++)
            for (var i1 = 0; i1 < dims[1]; i1++)
                for (var i2 = 0; i2 < dims[2]; i2++)
                    for (var i3 = 0; i3 < dims[3]; i3++)
                        map[k++] = i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3];
        return map;
    }

    /// <summary>
    /// A view merging dimensions <paramref name="startDim"/> … <paramref name="endDim"/> (inclusive;
    /// negative values count from the end) into one, as PyTorch's <c>flatten</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is out of range or start is after end.</exception>
    public Tensor Flatten(int startDim, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        var s = NormalizeDim(startDim, Rank, "Flatten");
        var e = NormalizeDim(endDim, Rank, "Flatten");
        if (s > e)
            throw new ArgumentOutOfRangeException(nameof(startDim), $"Flatten: start dimension {startDim} comes after end dimension {endDim} for shape {FormatShape(_shape)}.");
        var shape = new int[Rank - (e - s)];
        for (var i = 0; i < s; i++) shape[i] = _shape[i];
        shape[s] = 1;
        for (var i = s; i <= e; i++) shape[s] *= _shape[i];
        for (var i = e + 1; i < Rank; i++) shape[i - (e - s)] = _shape[i];
        return Reshape(shape);
    }
}
