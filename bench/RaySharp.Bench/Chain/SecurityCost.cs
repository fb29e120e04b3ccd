using RaySharp.Chain.Client;
using RaySharp.Chain.Hosting;
using RaySharp.Security;
using RaySharp.Security.Tests;

namespace RaySharp.Bench.Chain;

/// <summary>
/// What security costs the chain (issue 14): the same cells (f = 2, no fsync, read / write / 90-10 at 1 and 64
/// clients) on three clusters running side by side — plain TCP, the cluster token on every connection, and the
/// token inside mutual TLS — each cell measured on the three in turn, and each secured cell's throughput as a
/// ratio to the plain one. The token is checked once
/// per connection (a handshake before the first frame), so its ratio should be 1 within noise; TLS encrypts every
/// frame, and its ratio is the price.
/// </summary>
internal static class SecurityCost
{
    private static readonly (string Name, int ReadPercent)[] Mixes = [("read", 100), ("write", 0), ("mix90", 90)];
    private static readonly int[] ClientCounts = [1, 64];

    public static async Task MeasureAsync(BenchReport report, TimeSpan runLength, int runs, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetTempPath(), "raysharp-bench-security-" + Environment.ProcessId);
        using var certificates = new TestCertificates("RaySharp bench CA");
        try
        {
            var tokenFile = Path.Combine(folder, "token");
            var token = ClusterToken.CreateFile(tokenFile);
            var (certificate, key) = certificates.Issue("chain");
            string[] tokenArgs = ["--token-file", tokenFile];
            string[] tlsArgs = [.. tokenArgs, "--tls-cert", certificate, "--tls-key", key, "--tls-ca", certificates.CaPath];
            var setups = new (string Name, string[] Args, ChainClientOptions Client)[]
            {
                ("plain", [], new ChainClientOptions()),
                ("token", tokenArgs, new ChainClientOptions { Token = token }),
                ("tls", tlsArgs, new ChainClientOptions { Token = token, Tls = new TlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = certificates.CaPath } }),
            };
            var rates = new Dictionary<string, double>();
            // All three clusters run side by side and each cell is measured on each in turn, so drifting load (other
            // processes on a shared machine) falls on the three alike instead of on whichever ran last.
            var clusters = new List<(string Name, LocalChainCluster Cluster, ChainTarget Target)>();
            try
            {
                foreach (var (name, args, client) in setups)
                {
                    var cluster = await LocalChainCluster.StartAsync(new LocalChainClusterOptions
                    {
                        Servers = 3,
                        Replicas = 3,
                        Fsync = "none",
                        ServerArguments = args,
                        ControllerArguments = args,
                    }, cancellationToken);
                    client.Controller = cluster.Controller;
                    client.OperationTimeout = TimeSpan.FromSeconds(10);
                    var target = new ChainTarget(await ChainClient.ConnectAsync(client, cancellationToken));
                    clusters.Add((name, cluster, target));
                    await ChainBenchmark.WaitSettledAsync(cluster, client, cancellationToken);
                    await Task.WhenAll(Enumerable.Range(0, KvWorkload.Keys).Select(i => target.PutAsync(i, KvWorkload.Key(i), KvWorkload.Value)));
                }
                foreach (var (mix, readPercent) in Mixes)
                {
                    foreach (var clients in ClientCounts)
                    {
                        var cell = $"{mix}_c{clients}";
                        foreach (var (name, _, target) in clusters)
                        {
                            var result = await KvWorkload.RunAsync(target, clients, readPercent, runLength, runs, cancellationToken);
                            var stat = report.Add($"security_{name}_{cell}_ops", "ops/s", result.Rates);
                            report.Add($"security_{name}_{cell}_p50", "us", result.P50Us);
                            rates[$"{name}_{cell}"] = stat.Mean;
                        }
                    }
                }
            }
            finally
            {
                foreach (var (_, cluster, target) in clusters)
                {
                    await target.DisposeAsync();
                    await cluster.DisposeAsync();
                }
            }
            foreach (var (mix, _) in Mixes)
            {
                foreach (var clients in ClientCounts)
                {
                    var cell = $"{mix}_c{clients}";
                    report.Add($"ratio_security_token_vs_plain_{cell}", "x", rates[$"token_{cell}"] / rates[$"plain_{cell}"]);
                    report.Add($"ratio_security_tls_vs_plain_{cell}", "x", rates[$"tls_{cell}"] / rates[$"plain_{cell}"]);
                }
            }
            report.Note("security_*: f = 2, no fsync, three 3-server clusters side by side, each cell measured on each in turn: plain TCP, the cluster token on every connection, " +
                "and the token inside mutual TLS; ratio_security_* is each cell's throughput over the plain cluster's.");
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
