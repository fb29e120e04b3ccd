using System.Collections.Concurrent;

namespace RaySharp.Tune;

/// <summary>
/// A class trainable (Ray's <c>Trainable</c>): the experiment calls <see cref="Setup"/> with the trial's
/// config, then <see cref="Step"/> once per iteration, saving a checkpoint every
/// <see cref="CheckpointFrequency"/> steps and restoring one with <see cref="LoadCheckpoint"/> when a
/// trial resumes. A step whose metrics contain <c>"done"</c> ≠ 0 ends the trial. When a trial ends, its
/// instance may be reused for another trial if <see cref="ResetConfig"/> accepts the new config (saving
/// the cost of <see cref="Setup"/>); otherwise <see cref="Cleanup"/> is called and it is dropped.
/// </summary>
public abstract class Trainable
{
    /// <summary>Prepares training for <paramref name="config"/> (build the model, load data).</summary>
    public abstract void Setup(TrialConfig config);

    /// <summary>One iteration of training; returns its metrics.</summary>
    public abstract IReadOnlyDictionary<string, double> Step();

    /// <summary>The state after the latest step, or null if this trainable does not checkpoint.</summary>
    public virtual Checkpoint? SaveCheckpoint() => null;

    /// <summary>Restores a state saved by <see cref="SaveCheckpoint"/> (possibly by another trial, under PBT).</summary>
    /// <exception cref="NotSupportedException">The trainable does not override it.</exception>
    public virtual void LoadCheckpoint(Checkpoint checkpoint) =>
        throw new NotSupportedException($"{GetType().Name} was asked to restore a checkpoint but does not override LoadCheckpoint.");

    /// <summary>
    /// Switches this instance to <paramref name="config"/> for a new trial without a new <see cref="Setup"/>;
    /// return false (the default) when that is not possible.
    /// </summary>
    public virtual bool ResetConfig(TrialConfig config) => false;

    /// <summary>Releases what <see cref="Setup"/> acquired; called once when the instance is dropped.</summary>
    public virtual void Cleanup()
    {
    }

    /// <summary>Steps between checkpoints (a checkpoint is also saved at the step that reports done). Default 1.</summary>
    public virtual int CheckpointFrequency => 1;
}

/// <summary>Runs class trainables as function trainables, keeping ended instances for reuse.</summary>
internal sealed class ClassTrainableRunner(Func<Trainable> factory)
{
    private readonly Func<Trainable> _factory = factory ?? throw new ArgumentNullException(nameof(factory));
    private readonly ConcurrentBag<Trainable> _idle = [];

    public async Task RunAsync(TrialContext trial, CancellationToken cancellationToken)
    {
        var trainable = Acquire(trial.Config);
        var reusable = false;
        try
        {
            if (trial.Checkpoint is { } checkpoint)
                trainable.LoadCheckpoint(checkpoint);
            var frequency = trainable.CheckpointFrequency;
            if (frequency < 1)
                throw new InvalidOperationException($"{trainable.GetType().Name}.CheckpointFrequency must be at least 1, got {frequency}.");
            for (var i = trial.Iteration + 1; ; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var metrics = trainable.Step() ?? throw new InvalidOperationException($"{trainable.GetType().Name}.Step returned null.");
                var done = metrics.TryGetValue("done", out var flag) && flag != 0;
                var save = done || i % frequency == 0 ? trainable.SaveCheckpoint() : null;
                try
                {
                    await trial.ReportAsync(metrics, save).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    reusable = true; // paused or stopped between steps: the instance is in a clean state
                    throw;
                }
                if (done)
                    break;
            }
            reusable = true;
        }
        finally
        {
            if (reusable)
                _idle.Add(trainable);
            else
                trainable.Cleanup();
        }
    }

    /// <summary>Cleans up every idle instance (at the end of the experiment).</summary>
    public void CleanupIdle()
    {
        while (_idle.TryTake(out var trainable))
            trainable.Cleanup();
    }

    private Trainable Acquire(TrialConfig config)
    {
        while (_idle.TryTake(out var idle))
        {
            if (idle.ResetConfig(config))
                return idle;
            idle.Cleanup();
        }
        var created = _factory() ?? throw new InvalidOperationException("The trainable factory returned null.");
        created.Setup(config);
        return created;
    }
}
