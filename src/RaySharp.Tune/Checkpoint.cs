using System.Text.Json;

namespace RaySharp.Tune;

/// <summary>
/// The saved state of a trainable (weights, optimiser state, RNG state…) as bytes, so it can be written
/// to the experiment directory and, on the runtime, moved between processes. <see cref="Iteration"/> is
/// the iteration it was reported at; a run restored from it continues counting from there.
/// </summary>
public sealed class Checkpoint
{
    private readonly Lazy<byte[]> _data;

    private Checkpoint(Lazy<byte[]> data, int iteration)
    {
        _data = data;
        Iteration = iteration;
    }

    /// <summary>The iteration at which the checkpoint was reported (0 until reported).</summary>
    public int Iteration { get; }

    /// <summary>The saved bytes.</summary>
    /// <exception cref="FileNotFoundException">The checkpoint was read from an experiment folder and its file is gone.</exception>
    public ReadOnlySpan<byte> Data => _data.Value;

    /// <summary>Size in bytes.</summary>
    /// <exception cref="FileNotFoundException">The checkpoint was read from an experiment folder and its file is gone.</exception>
    public int Length => _data.Value.Length;

    /// <summary>A checkpoint of raw bytes (copied).</summary>
    public static Checkpoint FromBytes(ReadOnlySpan<byte> data) => new(new Lazy<byte[]>(data.ToArray()), 0);

    /// <summary>A checkpoint of <paramref name="state"/> serialised with System.Text.Json.</summary>
    public static Checkpoint FromObject<T>(T state) => new(new Lazy<byte[]>(JsonSerializer.SerializeToUtf8Bytes(state)), 0);

    /// <summary>Reads back a state written by <see cref="FromObject{T}"/>.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a JSON <typeparamref name="T"/>.</exception>
    /// <exception cref="FileNotFoundException">The checkpoint was read from an experiment folder and its file is gone.</exception>
    public T ToObject<T>()
    {
        try
        {
            return JsonSerializer.Deserialize<T>(_data.Value)
                ?? throw new InvalidDataException($"The checkpoint holds null, not a {typeof(T).Name}.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The checkpoint is not a JSON {typeof(T).Name}: {e.Message}", e);
        }
    }

    internal byte[] Bytes => _data.Value;

    internal Checkpoint AtIteration(int iteration) => new(_data, iteration);

    internal static Checkpoint Load(byte[] data, int iteration) => new(new Lazy<byte[]>(data), iteration);

    /// <summary>A checkpoint whose bytes are read from <paramref name="file"/> when first used.</summary>
    internal static Checkpoint FromFile(string file, int iteration) => new(new Lazy<byte[]>(() =>
    {
        try
        {
            return File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException(
                $"The checkpoint of iteration {iteration} is no longer on disk ({file}): a running experiment with KeepCheckpoints replaces older checkpoints. Open the experiment again for its current checkpoints.",
                file, e);
        }
    }), iteration);
}
