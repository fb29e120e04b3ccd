namespace RaySharp.Bench;

/// <summary>
/// One benchmark verb (<c>core</c>, <c>chain</c>, <c>nn</c>, …). Implementations are discovered by
/// reflection in <see cref="Program"/>; add a class, not a switch case.
/// </summary>
internal interface IBenchmark
{
    /// <summary>The verb on the command line, e.g. <c>chain</c>.</summary>
    string Verb { get; }

    /// <summary>One line for <c>--help</c>.</summary>
    string Description { get; }

    /// <summary>Runs the benchmark and records every metric into <paramref name="report"/>.</summary>
    Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken);
}

/// <summary>What a verb is told about the run.</summary>
/// <param name="Quick">True under <c>--quick</c>: fewer repetitions and smaller sizes, same metrics.</param>
/// <param name="Args">Arguments after the verb that the harness did not consume.</param>
/// <param name="ResultsDirectory">Where <c>&lt;verb&gt;.json</c> and any plots go.</param>
internal sealed record BenchContext(bool Quick, IReadOnlyList<string> Args, string ResultsDirectory);
