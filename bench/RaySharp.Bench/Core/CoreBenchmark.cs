namespace RaySharp.Bench.Core;

/// <summary>
/// <c>core</c>: references (Unix-socket round trip, memcpy) and the Orleans peer, measured in the same run
/// so ratios can be read off one table.
/// </summary>
internal sealed class CoreBenchmark : IBenchmark
{
    public string Verb => "core";

    public string Description => "core runtime: Ray's microbenchmarks, a Unix-socket and memcpy reference, Orleans";

    public async Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        var quick = context.Quick;
        var runs = quick ? 3 : 5;
        if (File.Exists("/proc/loadavg"))
            report.Note($"load average at start (1/5/15 min): {string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} on {Environment.ProcessorCount} cores; other processes share the machine.");

        report.Add("ref_uds_roundtrip_us", "µs", await References.UdsRoundTripMicrosecondsAsync(runs, quick ? 5_000 : 20_000, cancellationToken));
        report.Add("ref_memcpy_gbps", "GB/s", References.MemcpyGigabytesPerSecond(runs, quick ? 128 << 20 : 800 << 20, copies: quick ? 8 : 4));

        await ObjectStoreMicrobenchmarks.RunAsync(report, quick, runs, cancellationToken);

        try
        {
            await OrleansPeer.RunAsync(report, runs, syncCalls: quick ? 3_000 : 10_000, asyncBatches: quick ? 10 : 50, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or OrleansException)
        {
            report.Note($"Orleans peer not measured: {e.Message}");
        }

        await new RayMicrobenchmarks(report, quick, runs).RunAsync(cancellationToken);
        Targets.Check(report);
    }
}
