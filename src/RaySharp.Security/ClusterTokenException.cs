namespace RaySharp.Security;

/// <summary>
/// A cluster token could not be made, read or used: a missing or malformed file, a file other users could read,
/// a file owned by someone else, or an environment variable that does not hold a token. The message says what
/// was wrong and what to do.
/// </summary>
public sealed class ClusterTokenException : Exception
{
    /// <summary>Creates the exception with a message that says what was wrong and what to do.</summary>
    public ClusterTokenException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error underneath.</summary>
    public ClusterTokenException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
