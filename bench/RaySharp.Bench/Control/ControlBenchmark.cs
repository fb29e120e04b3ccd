using RaySharp.Bench.Core;
using RaySharp.Control;

namespace RaySharp.Bench.Control;

/// <summary>
/// <c>control</c>: what one request/reply to the node costs on each plane. The same request — look up a
/// named actor — goes over the data plane's framed Unix socket (an attached driver's
/// <see cref="Ray.GetActorAsync{T}"/>) and as a unary gRPC call to the control service over its Unix
/// socket and over loopback TCP; the raw Unix-socket ping-pong between two processes is the floor.
/// </summary>
internal sealed class ControlBenchmark : IBenchmark
{
    private const string ActorName = "bench-control-target";

    public string Verb => "control";

    public string Description => "control plane: unary gRPC (Unix socket, TCP) vs the framed data-plane round trip";

    public async Task RunAsync(BenchContext context, BenchReport report, CancellationToken cancellationToken)
    {
        var runs = context.Quick ? 3 : 5;
        var calls = context.Quick ? 1_000 : 5_000;
        if (File.Exists("/proc/loadavg"))
            report.Note($"load average at start (1/5/15 min): {string.Join(" / ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} on {Environment.ProcessorCount} cores.");
        report.Note("The node runs in the benchmark process and the client reaches it over sockets (the raw ping-pong is between two processes).");

        report.Add("ref_uds_roundtrip_us", "µs", await References.UdsRoundTripMicrosecondsAsync(runs, calls, cancellationToken));

        await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 1, ControlPort = 0 }, cancellationToken);
        await using var ray = await Ray.InitAsync(new RayOptions { Address = node.Address }, cancellationToken);
        var actor = ray.Actor(() => new Target()).WithName(ActorName).Remote();
        await actor.Call(t => t.Ping()).GetAsync(TimeSpan.FromSeconds(60), cancellationToken);

        using var uds = ControlChannel.Open(node.ControlAddresses[0]);
        using var tcp = ControlChannel.Open(node.ControlAddresses[1]);
        var udsClient = new NodeControl.NodeControlClient(uds);
        var tcpClient = new NodeControl.NodeControlClient(tcp);
        var request = new NamedActorRequest { Name = ActorName };
        var planes = new (string Metric, Func<Task> Call)[]
        {
            ("framed_lookup_roundtrip_us", async () => await ray.GetActorAsync<Target>(ActorName, cancellationToken)),
            ("grpc_unary_uds_lookup_us", async () => await udsClient.GetNamedActorAsync(request, cancellationToken: cancellationToken)),
            ("grpc_unary_tcp_lookup_us", async () => await tcpClient.GetNamedActorAsync(request, cancellationToken: cancellationToken)),
        };
        // Interleaved: each run times every plane once, one after the other, so load changes on this shared
        // machine hit all three alike (timed one plane after another, whichever came later looked faster).
        var samples = planes.Select(_ => new List<double>()).ToArray();
        for (var run = -2; run < runs; run++) // two warm-up rounds
        {
            for (var p = 0; p < planes.Length; p++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                for (var i = 0; i < calls; i++)
                    await planes[p].Call();
                if (run >= 0)
                    samples[p].Add(clock.Elapsed.TotalMicroseconds / calls);
            }
        }
        for (var p = 0; p < planes.Length; p++)
            report.Add(planes[p].Metric, "µs", samples[p]);
    }

    /// <summary>The named actor the lookups find.</summary>
    internal sealed class Target
    {
        public int Ping() => 1;
    }
}
