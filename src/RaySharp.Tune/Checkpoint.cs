using System.Text.Json;

namespace RaySharp.Tune;

/// <summary>
/// The saved state of a trainable (weights, optimiser state, RNG state…) as bytes, so it can be written
/// to the experiment directory and, on the runtime, moved between processes. <see cref="Iteration"/> is
/// the iteration it was reported at; a run restored from it continues counting from there.
/// </summary>
public sealed class Checkpoint
{
    private readonly byte[] _data;

    private Checkpoint(byte[] data, int iteration)
    {
        _data = data;
        Iteration = iteration;
    }

    /// <summary>The iteration at which the checkpoint was reported (0 until reported).</summary>
    public int Iteration { get; }

    /// <summary>The saved bytes.</summary>
    public ReadOnlySpan<byte> Data => _data;

    /// <summary>Size in bytes.</summary>
    public int Length => _data.Length;

    /// <summary>A checkpoint of raw bytes (copied).</summary>
    public static Checkpoint FromBytes(ReadOnlySpan<byte> data) => new(data.ToArray(), 0);

    /// <summary>A checkpoint of <paramref name="state"/> serialised with System.Text.Json.</summary>
    public static Checkpoint FromObject<T>(T state) => new(JsonSerializer.SerializeToUtf8Bytes(state), 0);

    /// <summary>Reads back a state written by <see cref="FromObject{T}"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a JSON <typeparamref name="T"/>.</exception>
    public T ToObject<T>()
    {
        try
        {
            return JsonSerializer.Deserialize<T>(_data)
                ?? throw new InvalidDataException($"The checkpoint holds null, not a {typeof(T).Name}.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The checkpoint is not a JSON {typeof(T).Name}: {e.Message}", e);
        }
    }

    internal byte[] Bytes => _data;

    internal Checkpoint AtIteration(int iteration) => new(_data, iteration);

    internal static Checkpoint Load(byte[] data, int iteration) => new(data, iteration);
}
