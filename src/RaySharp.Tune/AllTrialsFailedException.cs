using System.Text;

namespace RaySharp.Tune;

/// <summary>
/// Thrown by <see cref="Tuner.FitAsync"/> when every trial of the experiment ended with an error: the
/// message lists the first failures (trial id and the error's first line). The experiment is complete on
/// disk (results, <c>error.txt</c> per trial, state); <see cref="Results"/> holds it, and
/// <see cref="ResultGrid.Open"/> reads it back later.
/// </summary>
public sealed class AllTrialsFailedException : InvalidOperationException
{
    private const int Listed = 5;

    internal AllTrialsFailedException(ResultGrid results, int maxFailures)
        : base(Describe(results, maxFailures))
    {
        Results = results;
    }

    /// <summary>The experiment's trials, every one with <see cref="TrialStatus.Error"/> and its <see cref="Trial.Error"/>.</summary>
    public ResultGrid Results { get; }

    private static string Describe(ResultGrid results, int maxFailures)
    {
        var text = new StringBuilder();
        text.Append("All ").Append(results.Trials.Count).Append(results.Trials.Count == 1 ? " trial" : " trials")
            .Append(" of the experiment failed (each retried up to TuneOptions.MaxFailures = ").Append(maxFailures).Append(" times):");
        foreach (var trial in results.Trials.Take(Listed))
            text.AppendLine().Append("  trial ").Append(trial.Id).Append(": ").Append(trial.Error?.Summary ?? "no error recorded");
        if (results.Trials.Count > Listed)
            text.AppendLine().Append("  … and ").Append(results.Trials.Count - Listed).Append(" more");
        text.AppendLine().Append("Each trial's full error is in trials/<id>/error.txt under ").Append(results.ExperimentDirectory)
            .Append("; fix the trainable (or its search space) and run the experiment again.");
        return text.ToString();
    }
}
