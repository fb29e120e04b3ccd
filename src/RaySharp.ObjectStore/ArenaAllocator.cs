namespace RaySharp.ObjectStore;

/// <summary>
/// Address-ordered first-fit allocator over one arena, in 64-byte units, with coalescing of free
/// neighbours. First fit from the lowest address keeps reusing the pages that are already resident
/// (a fresh tmpfs page costs a fault and a zeroing; see the README). Not thread-safe: the store locks.
/// </summary>
internal sealed class ArenaAllocator
{
    /// <summary>Allocation granularity and payload alignment.</summary>
    public const int Alignment = 64;

    // Free blocks sorted by offset; a list is enough: the number of holes stays small and every
    // operation is a binary search plus at most one insert or remove.
    private readonly List<(long Offset, long Length)> _free = [];

    public ArenaAllocator(long capacity)
    {
        Capacity = capacity - capacity % Alignment;
        if (Capacity > 0)
            _free.Add((0, Capacity));
        FreeBytes = Capacity;
    }

    public long Capacity { get; }

    public long FreeBytes { get; private set; }

    /// <summary>The largest contiguous free block.</summary>
    public long LargestFreeBlock
    {
        get
        {
            long largest = 0;
            foreach (var (_, length) in _free)
                largest = Math.Max(largest, length);
            return largest;
        }
    }

    public static long AlignUp(long size) => (size + Alignment - 1) & ~(long)(Alignment - 1);

    /// <summary>Returns the offset of a block of <paramref name="size"/> bytes (a multiple of 64), or -1.</summary>
    public long TryAllocate(long size)
    {
        CheckSize(size);
        for (var i = 0; i < _free.Count; i++)
        {
            var (offset, length) = _free[i];
            if (length < size)
                continue;
            if (length == size)
                _free.RemoveAt(i);
            else
                _free[i] = (offset + size, length - size);
            FreeBytes -= size;
            return offset;
        }
        return -1;
    }

    /// <summary>Returns a block (or the tail of one) to the free list, merging it with its neighbours.</summary>
    public void Free(long offset, long size)
    {
        CheckSize(size);
        var index = FindInsertIndex(offset);
        if ((index > 0 && _free[index - 1].Offset + _free[index - 1].Length > offset) ||
            (index < _free.Count && offset + size > _free[index].Offset))
            throw new InvalidOperationException($"Double free in the object store arena at offset {offset} ({size} bytes).");

        var mergesLeft = index > 0 && _free[index - 1].Offset + _free[index - 1].Length == offset;
        var mergesRight = index < _free.Count && offset + size == _free[index].Offset;
        if (mergesLeft && mergesRight)
        {
            _free[index - 1] = (_free[index - 1].Offset, _free[index - 1].Length + size + _free[index].Length);
            _free.RemoveAt(index);
        }
        else if (mergesLeft)
        {
            _free[index - 1] = (_free[index - 1].Offset, _free[index - 1].Length + size);
        }
        else if (mergesRight)
        {
            _free[index] = (offset, size + _free[index].Length);
        }
        else
        {
            _free.Insert(index, (offset, size));
        }
        FreeBytes += size;
    }

    private int FindInsertIndex(long offset)
    {
        int lo = 0, hi = _free.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_free[mid].Offset < offset)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    private static void CheckSize(long size)
    {
        if (size <= 0 || size % Alignment != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, "Arena blocks are positive multiples of 64 bytes.");
    }
}
