namespace RaySharp.Nn;

public sealed partial class Tensor
{
    /// <summary>The non-2-D cases of <see cref="MatMul"/> (shapes already checked for the inner size).</summary>
    private Tensor BatchedMatMul(Tensor other)
    {
        // Vectors become matrices; their unit dimension is dropped from the result at the end.
        if (Rank == 1 && other.Rank == 1) return Reshape(1, _shape[0]).MatMul(other.Reshape(_shape[0], 1)).Reshape();
        if (Rank == 1)
        {
            var r = Reshape(1, _shape[0]).MatMul(other);
            return r.Reshape(DropDim(r._shape, r.Rank - 2));
        }
        if (other.Rank == 1)
        {
            var r = MatMul(other.Reshape(other._shape[0], 1));
            return r.Reshape(r._shape[..^1]);
        }
        var (m, k, n) = (_shape[^2], _shape[^1], other._shape[^1]);
        // A stack times one matrix is one tall product.
        if (other.Rank == 2)
        {
            var shape = (int[])_shape.Clone();
            shape[^1] = n;
            return Reshape(-1, k).MatMul(other).Reshape(shape);
        }
        var batchA = _shape[..^2];
        var batchB = other._shape[..^2];
        var batch = Broadcast.Shape(batchA, batchB, "MatMul (batch dimensions)");
        var count = ShapeLength(batch);
        var offA = BatchOffsets(batchA, batch, m * k);
        var offB = BatchOffsets(batchB, batch, k * n);
        var outShape = new int[batch.Length + 2];
        batch.CopyTo(outShape, 0);
        (outShape[^2], outShape[^1]) = (m, n);
        var o = new Tensor(GC.AllocateUninitializedArray<float>(count * m * n), outShape);
        for (var i = 0; i < count; i++)
            Blas.Sgemm(false, false, m, n, k, 1f, Span.Slice(offA[i], m * k), other.Span.Slice(offB[i], k * n), 0f, o.Span.Slice(i * m * n, m * n));
        if (!Tracks(this, other)) return o;
        var a = this;
        return Record(o, [a, other], r =>
        {
            var g = r.Grad!.Span;
            // Batches that share an operand (broadcast) add their contributions to its gradient.
            for (var i = 0; i < count; i++)
            {
                var gi = g.Slice(i * m * n, m * n);
                if (a.RequiresGrad) // dA = G·Bᵀ
                    Blas.Sgemm(false, true, m, k, n, 1f, gi, other.Span.Slice(offB[i], k * n), 1f, a.GradSpan().Slice(offA[i], m * k));
                if (other.RequiresGrad) // dB = Aᵀ·G
                    Blas.Sgemm(true, false, k, n, m, 1f, a.Span.Slice(offA[i], m * k), gi, 1f, other.GradSpan().Slice(offB[i], k * n));
            }
        });
    }

    /// <summary>The storage offset of each batch entry's matrix in an operand whose batch shape broadcasts to <paramref name="batch"/>.</summary>
    private static int[] BatchOffsets(ReadOnlySpan<int> own, int[] batch, int matrixSize)
    {
        var offsets = new int[ShapeLength(batch)];
        var index = new int[batch.Length];
        for (var i = 0; i < offsets.Length; i++)
        {
            var flat = 0;
            for (var d = 0; d < batch.Length; d++)
            {
                var j = d - (batch.Length - own.Length);
                if (j >= 0) flat = flat * own[j] + (own[j] == 1 ? 0 : index[d]);
            }
            offsets[i] = flat * matrixSize;
            for (var d = batch.Length - 1; d >= 0 && ++index[d] == batch[d]; d--) index[d] = 0;
        }
        return offsets;
    }

    private static int[] DropDim(int[] shape, int dim) => [.. shape[..dim], .. shape[(dim + 1)..]];
}
