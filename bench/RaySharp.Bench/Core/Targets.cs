namespace RaySharp.Bench.Core;

/// <summary>The issue's targets for the core runtime, checked against this run and printed as notes.</summary>
internal static class Targets
{
    public static void Check(BenchReport report)
    {
        var m = report.Metrics.ToDictionary(x => x.Name, x => x.Stat.Mean);
        double? Get(string name) => m.TryGetValue(name, out var v) ? v : null;

        void AtLeast(string metric, double target, string unit)
        {
            if (Get(metric) is { } v)
                report.Note($"{metric}: {v:N0} {unit} vs target ≥ {target:N0} → {(v >= target ? "met" : "missed")}");
        }

        AtLeast("single_client_tasks_sync", 5_000, "tasks/s");
        if (Get("single_client_tasks_sync") is { } sync && Get("ref_uds_roundtrip_us") is { } uds)
        {
            var ratio = 1e6 / sync / uds;
            report.Note($"single_client_tasks_sync: {1e6 / sync:F1} µs per task = {ratio:F1}× the Unix-socket round trip ({uds:F1} µs) vs target ≤ 4× → {(ratio <= 4 ? "met" : "missed")}");
        }
        AtLeast("single_client_tasks_async", 30_000, "tasks/s");
        AtLeast("1_1_actor_calls_sync", 10_000, "calls/s");
        if (Get("1_1_actor_calls_sync") is { } actorSync && Get("orleans_1_1_calls_sync") is { } orleans)
            report.Note($"1_1_actor_calls_sync: {actorSync / orleans:F2}× orleans_1_1_calls_sync ({orleans:N0}/s) vs target > 1 → {(actorSync > orleans ? "met" : "missed")}");
        AtLeast("1_1_actor_calls_async", 50_000, "calls/s");
        AtLeast("single_client_put_calls", 50_000, "puts/s");
        AtLeast("single_client_get_calls", 100_000, "gets/s");
        if (Get("mixed_duration_makespan_vs_bound") is { } mixed)
            report.Note($"mixed_duration_makespan_vs_bound: {mixed:F3}× vs target ≤ 1.1× → {(mixed <= 1.1 ? "met" : "missed")}");
        if (Get("single_client_put_gigabytes") is { } put && Get("ref_memcpy_gbps") is { } memcpy)
            report.Note($"single_client_put_gigabytes: {put:F2} GB/s = {put / memcpy:P0} of memcpy ({memcpy:F1} GB/s) vs target ≥ 50% → {(put >= memcpy / 2 ? "met" : "missed")}");
    }
}
