using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace RaySharp;

/// <summary>Identifies a job: one driver program and everything it submits.</summary>
/// <param name="Value">The raw id.</param>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct JobId(uint Value) : ISpanFormattable
{
    /// <inheritdoc/>
    public override string ToString() => $"job-{Value:x8}";

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => destination.TryWrite(provider, $"job-{Value:x8}", out charsWritten);
}

/// <summary>Identifies one task execution (or a driver's top-level context); contains its job id.</summary>
/// <param name="Job">The job the task belongs to.</param>
/// <param name="Unique">Unique within the job.</param>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public readonly record struct TaskId(JobId Job, ulong Unique) : ISpanFormattable
{
    /// <inheritdoc/>
    public override string ToString() => $"task-{Job.Value:x8}{Unique:x16}";

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => destination.TryWrite(provider, $"task-{Job.Value:x8}{Unique:x16}", out charsWritten);
}

/// <summary>
/// Identifies an object: the task that created it and an index (0 for a task's return value,
/// <see cref="PutFlag"/> set for values stored with <c>Put</c>). 16 bytes, unmanaged, so it keys the
/// shared-memory object store directly.
/// </summary>
/// <param name="Task">The task (or driver context) that created the object.</param>
/// <param name="Index">0 for a return value; <see cref="PutFlag"/> | n for the n-th put.</param>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public readonly record struct ObjectId(TaskId Task, uint Index) : ISpanFormattable
{
    /// <summary>Set in <see cref="Index"/> for objects created by <c>Put</c>.</summary>
    public const uint PutFlag = 0x8000_0000;

    /// <summary>The size of the binary form written by <see cref="WriteTo"/>.</summary>
    public const int Size = 16;

    /// <summary>The id of the return value of <paramref name="task"/>.</summary>
    public static ObjectId ForReturn(TaskId task) => new(task, 0);

    /// <summary>Writes the 16-byte binary form.</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Task.Job.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], Task.Unique);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Index);
    }

    /// <summary>Reads the 16-byte binary form.</summary>
    public static ObjectId ReadFrom(ReadOnlySpan<byte> source) => new(
        new TaskId(new JobId(BinaryPrimitives.ReadUInt32LittleEndian(source)), BinaryPrimitives.ReadUInt64LittleEndian(source[4..])),
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <inheritdoc/>
    public override string ToString() => $"obj-{Task.Job.Value:x8}{Task.Unique:x16}{Index:x8}";

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => destination.TryWrite(provider, $"obj-{Task.Job.Value:x8}{Task.Unique:x16}{Index:x8}", out charsWritten);
}

/// <summary>Identifies an actor; contains its job id.</summary>
/// <param name="Job">The job that created the actor.</param>
/// <param name="Unique">Unique within the job.</param>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public readonly record struct ActorId(JobId Job, ulong Unique) : ISpanFormattable
{
    /// <inheritdoc/>
    public override string ToString() => $"actor-{Job.Value:x8}{Unique:x16}";

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => destination.TryWrite(provider, $"actor-{Job.Value:x8}{Unique:x16}", out charsWritten);
}

/// <summary>Identifies a node (one machine's node manager). Object locations name nodes.</summary>
/// <param name="Value">The raw id.</param>
public readonly record struct NodeId(ulong Value) : ISpanFormattable
{
    /// <inheritdoc/>
    public override string ToString() => $"node-{Value:x16}";

    /// <inheritdoc/>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc/>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        => destination.TryWrite(provider, $"node-{Value:x16}", out charsWritten);
}

/// <summary>Process-wide generator of unique 64-bit ids: a random 32-bit prefix per process and a counter.</summary>
internal static class UniqueIds
{
    private static readonly ulong Prefix = (ulong)(uint)RandomNumberGenerator.GetInt32(1, int.MaxValue) << 32;
    private static long _counter;

    public static ulong Next() => Prefix | (uint)Interlocked.Increment(ref _counter);

    public static JobId NewJob() => new((uint)RandomNumberGenerator.GetInt32(1, int.MaxValue));
}
