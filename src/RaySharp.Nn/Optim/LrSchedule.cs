using System.Globalization;

namespace RaySharp.Nn;

/// <summary>
/// A learning-rate schedule (PyTorch's <c>lr_scheduler</c>): a closed form of the step count, applied
/// to an optimiser's <see cref="Optimizer.LearningRate"/>. The optimiser's learning rate when the
/// schedule is created is the base rate; call <see cref="Step"/> after each optimiser step (or epoch).
/// </summary>
public abstract class LrSchedule
{
    /// <summary>Remembers the optimiser and its current learning rate as the base rate.</summary>
    protected LrSchedule(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    /// <summary>The optimiser whose learning rate is set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The optimiser's learning rate when the schedule was created.</summary>
    public float BaseLearningRate { get; private set; }

    /// <summary>How many times <see cref="Step"/> has been called (PyTorch's <c>last_epoch</c>).</summary>
    public int StepCount { get; private set; }

    /// <summary>The learning rate after <paramref name="step"/> calls of <see cref="Step"/>.</summary>
    public abstract float LearningRateAt(int step);

    /// <summary>Advances the schedule by one step and sets the optimiser's learning rate.</summary>
    public void Step()
    {
        StepCount++;
        Optimizer.LearningRate = LearningRateAt(StepCount);
    }

    /// <summary>The schedule's state as invariant strings: <c>type</c>, <c>step</c> and <c>base_lr</c>.</summary>
    public IReadOnlyDictionary<string, string> StateValues() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["type"] = GetType().Name,
        ["step"] = StepCount.ToString(CultureInfo.InvariantCulture),
        ["base_lr"] = BaseLearningRate.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Restores state written by <see cref="StateValues"/> and sets the optimiser's learning rate to match.</summary>
    /// <exception cref="InvalidDataException">The state is of another schedule type or has invalid values.</exception>
    public void LoadState(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var type = values.GetValueOrDefault("type");
        if (type != GetType().Name)
            throw new InvalidDataException($"The schedule state is for {type ?? "an unknown schedule"}, not {GetType().Name}.");
        if (!int.TryParse(values.GetValueOrDefault("step"), NumberStyles.None, CultureInfo.InvariantCulture, out var step)
            || !float.TryParse(values.GetValueOrDefault("base_lr"), NumberStyles.Float, CultureInfo.InvariantCulture, out var baseLr))
            throw new InvalidDataException("The schedule state has no valid 'step' and 'base_lr' values.");
        StepCount = step;
        BaseLearningRate = baseLr;
        Optimizer.LearningRate = LearningRateAt(step);
    }

    /// <summary>Sets the optimiser's learning rate to the value at step 0 (derived constructors call it last).</summary>
    protected void Start() => Optimizer.LearningRate = LearningRateAt(0);
}
