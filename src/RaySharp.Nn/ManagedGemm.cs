using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace RaySharp.Nn;

/// <summary>
/// The managed fallback for <see cref="Blas.Sgemm"/>: op(B) is packed into k×n panels and op(A)
/// into four-row strips per cache block (KC×NC of B stays in L2), and a 4×16 register-blocked
/// micro-kernel of fused multiply-adds computes each tile. Row blocks run in parallel.
/// </summary>
internal static unsafe class ManagedGemm
{
    private const int Kc = 256;
    private const int Nc = 512;
    private const int Mc = 64;
    private const int Nr = 16;
    private const int Mr = 4;

    public static void Run(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c, int threads)
    {
        var cm = c[..(m * n)];
        if (beta == 0) cm.Clear();
        else if (beta != 1) TensorPrimitives.Multiply(cm, beta, cm);

        var bPack = ArrayPool<float>.Shared.Rent(Kc * Nc);
        try
        {
            fixed (float* pa = a)
            fixed (float* pb = b)
            fixed (float* pc = c)
            fixed (float* bp = bPack)
            {
                var aPtr = pa; var cPtr = pc; var bpPtr = bp;
                for (var p0 = 0; p0 < k; p0 += Kc)
                {
                    var kc = Math.Min(Kc, k - p0);
                    for (var j0 = 0; j0 < n; j0 += Nc)
                    {
                        var nc = Math.Min(Nc, n - j0);
                        var ncPad = (nc + Nr - 1) / Nr * Nr;
                        PackB(transB, pb, n, k, p0, kc, j0, nc, ncPad, bp);
                        var blocks = (m + Mc - 1) / Mc;
                        var work = (long)m * nc * kc;
                        int p0c = p0, j0c = j0, kcc = kc, ncc = nc, ncPadc = ncPad;
                        if (threads <= 1 || blocks == 1 || work < 1 << 18)
                        {
                            for (var blk = 0; blk < blocks; blk++)
                                Block(transA, aPtr, m, k, p0c, kcc, j0c, ncc, ncPadc, bpPtr, cPtr, n, alpha, blk);
                        }
                        else
                        {
                            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                                blk => Block(transA, aPtr, m, k, p0c, kcc, j0c, ncc, ncPadc, bpPtr, cPtr, n, alpha, blk));
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bPack);
        }
    }

    private static void PackB(bool transB, float* b, int n, int k, int p0, int kc, int j0, int nc, int ncPad, float* bp)
    {
        for (var p = 0; p < kc; p++)
        {
            var dst = bp + (long)p * ncPad;
            if (!transB)
            {
                new ReadOnlySpan<float>(b + (long)(p0 + p) * n + j0, nc).CopyTo(new Span<float>(dst, nc));
            }
            else
            {
                for (var j = 0; j < nc; j++)
                    dst[j] = b[(long)(j0 + j) * k + p0 + p];
            }
            for (var j = nc; j < ncPad; j++)
                dst[j] = 0;
        }
    }

    private static void Block(bool transA, float* a, int m, int k, int p0, int kc, int j0, int nc, int ncPad,
        float* bp, float* c, int n, float alpha, int blk)
    {
        var i0 = blk * Mc;
        var mc = Math.Min(Mc, m - i0);
        var quads = (mc + Mr - 1) / Mr;
        var aPack = ArrayPool<float>.Shared.Rent(quads * kc * Mr);
        try
        {
            fixed (float* ap = aPack)
            {
                // Pack op(A)[i0.., p0..] as quad-major strips: ap[(q*kc + p)*4 + r].
                for (var q = 0; q < quads; q++)
                {
                    for (var r = 0; r < Mr; r++)
                    {
                        var row = i0 + q * Mr + r;
                        var dst = ap + (long)q * kc * Mr + r;
                        if (row >= m)
                        {
                            for (var p = 0; p < kc; p++) dst[p * Mr] = 0;
                        }
                        else if (!transA)
                        {
                            var src = a + (long)row * k + p0;
                            for (var p = 0; p < kc; p++) dst[p * Mr] = src[p];
                        }
                        else
                        {
                            for (var p = 0; p < kc; p++) dst[p * Mr] = a[(long)(p0 + p) * m + row];
                        }
                    }
                }
                for (var q = 0; q < quads; q++)
                {
                    var strip = ap + (long)q * kc * Mr;
                    var rowBase = i0 + q * Mr;
                    for (var j = 0; j < ncPad; j += Nr)
                        Kernel(strip, bp + j, ncPad, kc, c, n, rowBase, Math.Min(Mr, m - rowBase), j0 + j, Math.Min(Nr, nc - j), alpha);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(aPack);
        }
    }

    private static void Kernel(float* a, float* b, int ldb, int kc, float* c, int ldc, int row0, int rows, int col0, int cols, float alpha)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (var p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            var a1 = Vector256.Create(a[1]);
            var a2 = Vector256.Create(a[2]);
            var a3 = Vector256.Create(a[3]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            a += Mr;
            b += ldb;
        }
        var tile = stackalloc float[Mr * Nr];
        var va = Vector256.Create(alpha);
        (c00 * va).Store(tile); (c01 * va).Store(tile + 8);
        (c10 * va).Store(tile + 16); (c11 * va).Store(tile + 24);
        (c20 * va).Store(tile + 32); (c21 * va).Store(tile + 40);
        (c30 * va).Store(tile + 48); (c31 * va).Store(tile + 56);
        for (var r = 0; r < rows; r++)
        {
            var dst = c + (long)(row0 + r) * ldc + col0;
            var src = tile + r * Nr;
            if (cols == Nr)
            {
                (Vector256.Load(dst) + Vector256.Load(src)).Store(dst);
                (Vector256.Load(dst + 8) + Vector256.Load(src + 8)).Store(dst + 8);
            }
            else
            {
                for (var j = 0; j < cols; j++) dst[j] += src[j];
            }
        }
    }
}
