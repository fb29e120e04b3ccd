namespace RaySharp.JoinOpt;

/// <summary>Base of the errors JoinOpt raises for bad input; catch this to handle them all.</summary>
public class JoinOptException : Exception
{
    /// <summary>Creates the error with a message that says what was wrong and what to do.</summary>
    public JoinOptException(string message) : base(message) { }

    /// <summary>Creates the error with a message and the error that caused it.</summary>
    public JoinOptException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the error with a default message.</summary>
    public JoinOptException() { }
}

/// <summary>SQL text outside the supported select-project-join subset, or malformed; the message names the construct and its position.</summary>
public sealed class SqlSyntaxException : JoinOptException
{
    /// <summary>Creates the error.</summary>
    public SqlSyntaxException(string message) : base(message) { }

    /// <summary>Creates the error with the error that caused it.</summary>
    public SqlSyntaxException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the error with a default message.</summary>
    public SqlSyntaxException() { }
}

/// <summary>A query that parses but cannot be planned: unknown table or column, or a disconnected join graph.</summary>
public sealed class QueryValidationException : JoinOptException
{
    /// <summary>Creates the error.</summary>
    public QueryValidationException(string message) : base(message) { }

    /// <summary>Creates the error with the error that caused it.</summary>
    public QueryValidationException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the error with a default message.</summary>
    public QueryValidationException() { }
}

/// <summary>The statistics do not cover something the query needs (a table size, a join pair or a predicate).</summary>
public sealed class MissingStatisticsException : JoinOptException
{
    /// <summary>Creates the error.</summary>
    public MissingStatisticsException(string message) : base(message) { }

    /// <summary>Creates the error with the error that caused it.</summary>
    public MissingStatisticsException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>Creates the error with a default message.</summary>
    public MissingStatisticsException() { }
}
