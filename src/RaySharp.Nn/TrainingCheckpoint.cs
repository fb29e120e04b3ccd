using System.Globalization;

namespace RaySharp.Nn;

/// <summary>
/// A whole training state in one safetensors file: the model's parameters and buffers (tensors
/// <c>model.{name}</c>), the optimiser's state (<c>optimizer.{name}</c>, values in the metadata as
/// <c>optimizer.{key}</c>), the learning-rate schedule's state (<c>schedule.{key}</c>) and the
/// caller's step count (<c>step</c>). Loading it into freshly built objects of the same structure
/// makes the next training step identical to the one the saved run would have taken.
/// </summary>
public static class TrainingCheckpoint
{
    private const string Format = "raysharp-nn-checkpoint-1";

    /// <summary>Writes the checkpoint to <paramref name="stream"/> (left open).</summary>
    public static void Save(Stream stream, Module model, Optimizer? optimizer = null, LrSchedule? schedule = null, long step = 0)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(model);
        var tensors = model.StateTensors().Select(t => ("model." + t.Name, t.Value)).ToList();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
        };
        if (optimizer is not null)
        {
            tensors.AddRange(optimizer.StateTensors().Select(t => ("optimizer." + t.Name, t.Value)));
            foreach (var (k, v) in optimizer.StateValues()) metadata["optimizer." + k] = v;
        }
        if (schedule is not null)
            foreach (var (k, v) in schedule.StateValues()) metadata["schedule." + k] = v;
        Safetensors.Save(stream, tensors, metadata);
    }

    /// <summary>The checkpoint as bytes.</summary>
    public static byte[] ToBytes(Module model, Optimizer? optimizer = null, LrSchedule? schedule = null, long step = 0)
    {
        using var stream = new MemoryStream();
        Save(stream, model, optimizer, schedule, step);
        return stream.ToArray();
    }

    /// <summary>Writes the checkpoint to the file <paramref name="path"/>.</summary>
    public static void Save(string path, Module model, Optimizer? optimizer = null, LrSchedule? schedule = null, long step = 0)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = File.Create(path);
        Save(file, model, optimizer, schedule, step);
    }

    /// <summary>
    /// Restores a checkpoint from <paramref name="bytes"/> into <paramref name="model"/> and, when
    /// given, <paramref name="optimizer"/> and <paramref name="schedule"/>; returns the saved step.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The data is not a checkpoint, or lacks the optimiser or schedule asked for, or holds state of
    /// another structure.
    /// </exception>
    public static long Load(byte[] bytes, Module model, Optimizer? optimizer = null, LrSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(model);
        var metadata = Safetensors.ReadMetadata(bytes);
        if (metadata.GetValueOrDefault("format") != Format)
            throw new InvalidDataException($"The data is not a RaySharp.Nn training checkpoint (format '{metadata.GetValueOrDefault("format")}', expected '{Format}').");
        var tensors = Safetensors.Load(bytes);
        model.LoadState(Section(tensors, "model."), "the checkpoint's model");
        if (optimizer is not null)
        {
            var values = Section(metadata, "optimizer.");
            if (values.Count == 0)
                throw new InvalidDataException("The checkpoint holds no optimiser state; load it without an optimiser or save one with it.");
            optimizer.LoadState(Section(tensors, "optimizer."), values);
        }
        if (schedule is not null)
        {
            var values = Section(metadata, "schedule.");
            if (values.Count == 0)
                throw new InvalidDataException("The checkpoint holds no schedule state; load it without a schedule or save one with it.");
            schedule.LoadState(values);
        }
        return long.Parse(metadata["step"], NumberStyles.Integer, CultureInfo.InvariantCulture);
    }

    /// <summary>As <see cref="Load(byte[], Module, Optimizer?, LrSchedule?)"/>, reading <paramref name="stream"/> to its end.</summary>
    public static long Load(Stream stream, Module model, Optimizer? optimizer = null, LrSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return Load(copy.ToArray(), model, optimizer, schedule);
    }

    /// <summary>As <see cref="Load(byte[], Module, Optimizer?, LrSchedule?)"/>, reading the file <paramref name="path"/>.</summary>
    public static long Load(string path, Module model, Optimizer? optimizer = null, LrSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Load(File.ReadAllBytes(path), model, optimizer, schedule);
    }

    private static Dictionary<string, T> Section<T>(Dictionary<string, T> all, string prefix) =>
        all.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
}
