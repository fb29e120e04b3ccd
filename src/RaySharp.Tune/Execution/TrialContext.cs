namespace RaySharp.Tune;

/// <summary>
/// A function trainable: trains with <see cref="TrialContext.Config"/>, restores
/// <see cref="TrialContext.Checkpoint"/> when one is given, and calls <c>ReportAsync</c>
/// once per iteration. Returning ends the trial. When the experiment stops or pauses the trial, the
/// report call throws <see cref="OperationCanceledException"/> and <paramref name="cancellationToken"/> is
/// cancelled; let it propagate.
/// <code>
/// async Task Train(TrialContext trial, CancellationToken ct)
/// {
///     var state = trial.Checkpoint?.ToObject&lt;MyState&gt;() ?? new MyState();
///     for (var i = trial.Iteration; i &lt; 100; i++)
///     {
///         var loss = state.Step(trial.Config.Get&lt;double&gt;("lr"));
///         await trial.ReportAsync("loss", loss, Checkpoint.FromObject(state));
///     }
/// }
/// </code>
/// </summary>
public delegate Task TrainableFunction(TrialContext trial, CancellationToken cancellationToken);

/// <summary>What a running trial sees: its id, config, the checkpoint to restore, and how to report.</summary>
public sealed class TrialContext
{
    private readonly Func<IReadOnlyDictionary<string, double>, Checkpoint?, ValueTask<TrialDecision>> _report;
    private readonly CancellationTokenSource _cancellation;

    internal TrialContext(TrialRun run, Func<IReadOnlyDictionary<string, double>, Checkpoint?, ValueTask<TrialDecision>> report)
    {
        TrialId = run.TrialId;
        Config = run.Config;
        Checkpoint = run.Restore;
        Iteration = run.StartIteration;
        _cancellation = run.Cancellation;
        _report = report;
    }

    /// <summary>The trial's id.</summary>
    public string TrialId { get; }

    /// <summary>The hyperparameters to train with.</summary>
    public TrialConfig Config { get; }

    /// <summary>The checkpoint to resume from, or null for a fresh start.</summary>
    public Checkpoint? Checkpoint { get; }

    /// <summary>Iterations already done before this run (the checkpoint's iteration, else 0).</summary>
    public int Iteration { get; private set; }

    /// <summary>Reports one metric for this iteration; see <see cref="ReportAsync(IReadOnlyDictionary{string, double}, Checkpoint?)"/>.</summary>
    /// <exception cref="OperationCanceledException">The experiment paused or stopped the trial.</exception>
    public ValueTask ReportAsync(string metric, double value, Checkpoint? checkpoint = null) =>
        ReportAsync(new Dictionary<string, double>(1) { [metric] = value }, checkpoint);

    /// <summary>
    /// Reports one iteration's metrics (and optionally a checkpoint of the state after it) and waits
    /// until the experiment has decided what the trial does next.
    /// </summary>
    /// <exception cref="OperationCanceledException">The experiment paused or stopped the trial.</exception>
    public async ValueTask ReportAsync(IReadOnlyDictionary<string, double> metrics, Checkpoint? checkpoint = null)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _cancellation.Token.ThrowIfCancellationRequested();
        var decision = await _report(metrics, checkpoint).ConfigureAwait(false);
        Iteration++;
        if (decision != TrialDecision.Continue)
        {
            await _cancellation.CancelAsync().ConfigureAwait(false);
            _cancellation.Token.ThrowIfCancellationRequested();
        }
    }
}
