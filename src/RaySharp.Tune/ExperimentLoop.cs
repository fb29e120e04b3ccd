using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace RaySharp.Tune;

/// <summary>
/// The experiment's event loop (Ray's <c>TrialRunner</c>): asks the scheduler which trial to run and the
/// searcher for new ones, starts runs on the executor, and handles each report (stopping rules, then the
/// scheduler's decision) and each end (completion, failure and retry). Single-threaded: every searcher,
/// scheduler and stopper call happens here, so they need no locks.
/// </summary>
internal sealed class ExperimentLoop : ITrialRunner
{
    private readonly SearchSpace _space;
    private readonly TuneOptions _options;
    private readonly ISearcher _searcher;
    private readonly ITrialScheduler _scheduler;
    private readonly IStopper? _stopper;
    private readonly ITrialExecutor _executor;
    private readonly long _maxTrials;
    private readonly List<Trial> _trials = [];
    private readonly Dictionary<string, Trial> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrialRun> _runs = new(StringComparer.Ordinal); // current run of each running trial
    private readonly Channel<TrialEvent> _events = Channel.CreateUnbounded<TrialEvent>(new() { SingleReader = true });
    private readonly HashSet<string> _reset = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Checkpoint> _exploited = new(StringComparer.Ordinal); // PBT restore points not yet superseded by the trial's own checkpoint
    private ExperimentFiles? _files;
    private TimeSpan _elapsedBefore; // wall-clock time of the runs before a restore
    private long _runNumber;
    private int _outstanding; // runs started whose TrialEnded has not been read
    private bool _stopExperiment;

    public ExperimentLoop(SearchSpace space, TuneOptions options, ITrialExecutor executor)
    {
        _space = space ?? throw new ArgumentNullException(nameof(space));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _executor = executor ?? throw new ArgumentNullException(nameof(executor));
        options.Validate();
        space.ValidateSearchable();
        // Resolve one configuration now so a computed value that cannot be computed fails here, before any trial.
        var probe = new SpaceEncoding(space, allowGrid: true, nameof(Tuner));
        probe.Decode(probe.SamplePoint(new SeededRandom(0)), probe.GridCombination(0));
        _searcher = options.Searcher ?? new RandomSearcher();
        _scheduler = options.Scheduler ?? new FifoScheduler();
        _stopper = options.Stopper;
        _searcher.Initialize(space, options.Metric, options.Mode);
        _scheduler.Initialize(options.Metric, options.Mode);
        _maxTrials = checked(options.NumSamples * (_searcher is RandomSearcher random ? random.GridSize : 1));
    }

    public IReadOnlyList<Trial> Trials => _trials;

    /// <summary>Takes over the trials and searcher state of an interrupted experiment, before <see cref="RunAsync"/>.</summary>
    public void Restore(ExperimentState state)
    {
        if (_trials.Count > 0)
            throw new InvalidOperationException("An experiment can only be restored before it runs.");
        try
        {
            _searcher.RestoreState(state.Searcher);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException($"The saved searcher state does not fit this searcher and space: {e.Message}", e);
        }
        _elapsedBefore = state.Elapsed;
        foreach (var trial in state.Trials)
        {
            _trials.Add(trial);
            _byId[trial.Id] = trial;
        }
        foreach (var id in state.Exploited)
            _exploited[id] = _byId[id].RestoreFrom!;
        var schedulerType = _scheduler.GetType().FullName;
        if (state.Scheduler is { } saved)
        {
            if (state.SchedulerType != schedulerType)
                throw new ArgumentException(
                    $"The experiment was scheduled by {state.SchedulerType}, not {schedulerType}; restore it with a scheduler of the kind (and settings) it was started with.");
            try
            {
                _scheduler.RestoreState(this, saved);
            }
            catch (InvalidDataException e)
            {
                throw new ArgumentException($"The saved scheduler state does not fit this scheduler: {e.Message}", e);
            }
            return;
        }

        // No scheduler state (a scheduler that keeps none, or a state file of version 1): the scheduler
        // gets every unfinished trial as a new one.
        foreach (var trial in state.Trials.Where(t => t.Status is TrialStatus.Pending or TrialStatus.Paused))
        {
            trial.Status = TrialStatus.Pending;
            _scheduler.OnTrialAdd(this, trial);
        }
    }

    public bool SearchFinished { get; private set; }

    public async Task<ResultGrid> RunAsync(string directory, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan Elapsed() => _elapsedBefore + clock.Elapsed;
        using var files = new ExperimentFiles(directory, _options.Metric, _options.Mode, _options.KeepCheckpoints);
        _files = files;
        foreach (var trial in _trials.Where(t => t.Status is TrialStatus.Pending or TrialStatus.Paused))
            files.RewriteResults(trial); // restored: drop what a killed run wrote past the trial's checkpoint
        var progress = _options.Progress is { } writer ? ProgressDisplay.Create(writer) : null;
        await using var progressScope = (progress ?? ProgressDisplay.None).ConfigureAwait(false);
        var lastSave = clock.Elapsed;
        var lastProgress = clock.Elapsed;
        Exception? failure = null;
        try
        {
            while (true)
            {
                if (_stopExperiment || cancellationToken.IsCancellationRequested || _stopper?.ShouldStopExperiment() == true)
                    break;
                StartTrials();
                if (_runs.Count == 0)
                {
                    if (SearchFinished)
                        break;
                    throw new InvalidOperationException(
                        $"The experiment is stuck: no trial is running, the scheduler chose none of the {_trials.Count(t => t.Status is TrialStatus.Pending or TrialStatus.Paused)} pending or paused trials, and the searcher is waiting for trials to finish. A ConcurrencyLimiter below the size of a HyperBand bracket does this; raise its limit.");
                }
                TrialEvent next;
                try
                {
                    next = await _events.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                Handle(next);
                if (clock.Elapsed - lastSave >= _options.StateSaveInterval)
                {
                    files.SaveState(_trials, _searcher, _scheduler, _options.Metric, _options.Mode, _exploited, Elapsed());
                    lastSave = clock.Elapsed;
                }
                if (progress is not null && clock.Elapsed - lastProgress >= _options.ProgressInterval)
                {
                    progress.Update(Snapshot(directory, Elapsed()), Status(directory, Elapsed()));
                    lastProgress = clock.Elapsed;
                }
            }
        }
        catch (Exception e)
        {
            failure = e;
        }

        // Stop whatever still runs, then read events until every run has ended. An interrupted experiment
        // keeps its unfinished trials unfinished, to be resumed by Tuner.Restore.
        var interrupted = failure is null && !_stopExperiment && cancellationToken.IsCancellationRequested;
        foreach (var trial in _trials.Where(t => t.Status is TrialStatus.Running or TrialStatus.Paused or TrialStatus.Pending).ToList())
        {
            if (!interrupted)
            {
                Complete(trial, TrialStatus.Terminated);
            }
            else if (trial.Status == TrialStatus.Running)
            {
                // Saved as running, as after a kill: a restore resumes it from its latest checkpoint
                // whatever the scheduler (only the scheduler resumes trials it paused itself).
                if (_runs.Remove(trial.Id, out var run))
                    run.Cancellation.Cancel();
            }
        }
        while (_outstanding > 0)
        {
            var e = await _events.Reader.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            if (e is TrialReported reported)
                reported.Decision.TrySetResult(TrialDecision.Stop);
            else
                _outstanding--;
        }
        await _executor.DisposeAsync().ConfigureAwait(false);
        var elapsed = Elapsed();
        files.SaveState(_trials, _searcher, _scheduler, _options.Metric, _options.Mode, _exploited, elapsed);
        var grid = new ResultGrid(_trials, _options.Metric, _options.Mode, directory, elapsed);
        files.WriteSummary(grid.ToCsv());
        progress?.Complete(grid, Status(directory, elapsed));
        if (failure is not null)
            ExceptionDispatchInfo.Capture(failure).Throw();
        if (interrupted)
            throw new OperationCanceledException($"The experiment was cancelled; its state is saved in {directory}. Continue it with Tuner.Restore.", cancellationToken);
        if (_trials.Count > 0 && _trials.All(t => t.Status == TrialStatus.Error))
            throw new AllTrialsFailedException(grid, _options.MaxFailures);
        return grid;
    }

    private ResultGrid Snapshot(string directory, TimeSpan elapsed) => new(_trials, _options.Metric, _options.Mode, directory, elapsed);

    /// <summary>One line: trial counts by status, the best result so far, the time.</summary>
    private string Status(string directory, TimeSpan elapsed)
    {
        var counts = string.Join(", ", Enum.GetValues<TrialStatus>()
            .Select(s => (Status: s, Count: _trials.Count(t => t.Status == s)))
            .Where(c => c.Count > 0)
            .Select(c => $"{c.Count} {c.Status.ToString().ToLowerInvariant()}"));
        var best = "";
        if (_trials.Any(t => t.LastResult?.TryGet(_options.Metric) is not null))
        {
            var top = Snapshot(directory, elapsed).GetBestTrial();
            best = $" | best {_options.Metric} {TrialConfig.Format(top.LastResult![_options.Metric])} (trial {top.Id})";
        }
        return string.Create(CultureInfo.InvariantCulture, $"== Tune: {_trials.Count} trials ({counts}){best} | {elapsed.TotalSeconds:F1} s ==");
    }

    /// <summary>Fills free slots: the scheduler's choice first, else a new trial from the searcher.</summary>
    private void StartTrials()
    {
        while (_runs.Count < _options.MaxConcurrentTrials)
        {
            var chosen = _scheduler.ChooseTrialToRun(this);
            if (chosen is not null)
            {
                if (chosen.Status is not (TrialStatus.Pending or TrialStatus.Paused))
                    throw new InvalidOperationException($"The scheduler chose {chosen}, which is not pending or paused.");
                Launch(chosen);
                continue;
            }
            if (SearchFinished)
                return;
            if (_trials.Count >= _maxTrials)
            {
                SearchFinished = true;
                continue;
            }
            var id = (_trials.Count + 1).ToString("D5", CultureInfo.InvariantCulture);
            var suggestion = _searcher.Suggest(id);
            switch (suggestion.Kind)
            {
                case SuggestionKind.Config:
                    var trial = new Trial(id, suggestion.Config!);
                    _trials.Add(trial);
                    _byId[id] = trial;
                    _files!.TrialCreated(trial);
                    _scheduler.OnTrialAdd(this, trial);
                    break;
                case SuggestionKind.Finished:
                    SearchFinished = true;
                    break;
                default:
                    return;
            }
        }
    }

    private void Launch(Trial trial)
    {
        var run = new TrialRun(trial.Id, ++_runNumber, trial.Config, trial.RestoreFrom);
        trial.Status = TrialStatus.Running;
        trial.Iteration = run.StartIteration;
        _reset.Remove(trial.Id);
        _runs[trial.Id] = run;
        _outstanding++;
        _executor.Start(run, _events.Writer);
    }

    private void Handle(TrialEvent e)
    {
        var trial = _byId[e.Run.TrialId];
        var current = _runs.TryGetValue(trial.Id, out var run) && ReferenceEquals(run, e.Run);
        switch (e)
        {
            case TrialReported reported when !current:
                reported.Decision.TrySetResult(TrialDecision.Stop); // a run we already paused or stopped
                break;
            case TrialReported reported:
                try
                {
                    reported.Decision.TrySetResult(OnResult(trial, reported));
                }
                catch
                {
                    reported.Decision.TrySetResult(TrialDecision.Stop);
                    throw;
                }
                break;
            case TrialEnded ended:
                _outstanding--;
                if (current)
                    OnEnded(trial, ended);
                break;
        }
    }

    private TrialDecision OnResult(Trial trial, TrialReported reported)
    {
        var result = new TrialResult(trial.Id, trial.Iteration + 1, reported.Metrics, reported.Elapsed);
        if (result.TryGet(_options.Metric) is null)
        {
            _stopExperiment = true;
            throw new InvalidOperationException(
                $"Trial {trial.Id} reported {string.Join(", ", reported.Metrics.Keys.Select(k => "'" + k + "'"))} but not the experiment's metric '{_options.Metric}'; report it from the trainable or set TuneOptions.Metric to a reported name.");
        }
        trial.AddResult(result);
        _files!.Result(trial, result);
        if (reported.Checkpoint is { } checkpoint)
        {
            if (_exploited.Remove(trial.Id))
                _files.DiscardCheckpointsAfter(trial.Id, result.Iteration);
            trial.LatestCheckpoint = checkpoint.AtIteration(result.Iteration);
            _files.Checkpoint(trial, trial.LatestCheckpoint, result);
        }

        var decision = _stopper?.ShouldStopTrial(trial, result) == true
            ? TrialDecision.Stop
            : _scheduler.OnTrialResult(this, trial, result);
        if (_stopper?.ShouldStopExperiment() == true)
            _stopExperiment = true;
        switch (decision)
        {
            case TrialDecision.Pause:
                _runs.Remove(trial.Id);
                trial.Status = TrialStatus.Paused;
                if (!_reset.Contains(trial.Id))
                    trial.RestoreFrom = trial.LatestCheckpoint;
                break;
            case TrialDecision.Stop:
                Complete(trial, TrialStatus.Terminated);
                break;
        }
        return decision;
    }

    private void OnEnded(Trial trial, TrialEnded ended)
    {
        _runs.Remove(trial.Id);
        if (ended.Error is null)
        {
            Complete(trial, TrialStatus.Terminated);
            return;
        }
        trial.Failures++;
        trial.Error = ended.Error;
        _files!.TrialFailed(trial);
        if (trial.Failures <= _options.MaxFailures)
        {
            trial.RestoreFrom = trial.LatestCheckpoint;
            Launch(trial); // retried at once from its latest checkpoint
            return;
        }
        Complete(trial, TrialStatus.Error);
    }

    private void Complete(Trial trial, TrialStatus status)
    {
        if (trial.Status is TrialStatus.Terminated or TrialStatus.Error)
            return;
        if (_runs.Remove(trial.Id, out var run))
            run.Cancellation.Cancel();
        trial.Status = status;
        _exploited.Remove(trial.Id);
        _files?.TrialEnded(trial);
        _searcher.OnTrialComplete(trial.Id, trial.LastResult, failed: status == TrialStatus.Error);
        _scheduler.OnTrialComplete(this, trial);
    }

    void ITrialRunner.StopTrial(Trial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        Complete(trial, TrialStatus.Terminated);
    }

    void ITrialRunner.ResetTrial(Trial trial, TrialConfig config, Checkpoint? checkpoint)
    {
        ArgumentNullException.ThrowIfNull(trial);
        ArgumentNullException.ThrowIfNull(config);
        trial.Config = config;
        trial.RestoreFrom = checkpoint;
        _reset.Add(trial.Id);
        if (checkpoint is not null)
            _exploited[trial.Id] = checkpoint;
        else
            _exploited.Remove(trial.Id);
    }
}
