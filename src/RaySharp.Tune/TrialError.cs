namespace RaySharp.Tune;

/// <summary>
/// Why a trial's run failed: the exception the trainable threw, as seen in the process that ran it (the
/// driver, or a worker process when trials run on the runtime), with its full stack trace. Every failure
/// is also appended to the trial's <c>error.txt</c>.
/// </summary>
public sealed class TrialError
{
    internal TrialError(string type, string message, string details)
    {
        Type = type;
        Message = message;
        Details = details;
    }

    /// <summary>Full name of the exception type, e.g. <c>System.InvalidOperationException</c>.</summary>
    public string Type { get; }

    /// <summary>The exception's message.</summary>
    public string Message { get; }

    /// <summary>
    /// The full text as <see cref="Exception.ToString"/> gives it in the process that ran the trial: type,
    /// message, inner exceptions and stack traces (a worker process's trace when the trial ran on the runtime).
    /// </summary>
    public string Details { get; }

    /// <summary>One line: the type's short name and the first line of the message.</summary>
    public string Summary
    {
        get
        {
            var shortType = Type[(Type.LastIndexOf('.') + 1)..];
            var firstLine = Message.AsSpan();
            var end = firstLine.IndexOfAny('\r', '\n');
            return end < 0 ? $"{shortType}: {Message}" : $"{shortType}: {firstLine[..end]}";
        }
    }

    /// <summary>The record of <paramref name="exception"/>; a <see cref="RayTaskException"/> keeps the remote type, message and stack.</summary>
    internal static TrialError From(Exception exception)
    {
        return exception is RayTaskException remote
            ? new TrialError(remote.RemoteType, remote.RemoteMessage, exception.ToString())
            : new TrialError(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.ToString());
    }

    /// <summary>The full text (<see cref="Details"/>).</summary>
    public override string ToString() => Details;
}
