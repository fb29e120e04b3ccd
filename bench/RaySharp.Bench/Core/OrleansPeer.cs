using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RaySharp.Bench.Orleans;

namespace RaySharp.Bench.Core;

/// <summary>
/// The .NET peer: Microsoft Orleans, a silo in a child process on loopback and a client here calling a
/// grain, measured like Ray's 1:1 actor calls — awaited one by one, and 1000 in flight then awaited together.
/// </summary>
internal static class OrleansPeer
{
    public static async Task RunAsync(BenchReport report, int runs, int syncCalls, int asyncBatches, CancellationToken cancellationToken)
    {
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        await using var silo = await PeerProcess.StartAsync(
            ["orleans-silo", siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture), gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(60), cancellationToken);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client => client.UseLocalhostClustering(gatewayPort));
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var grain = host.Services.GetRequiredService<IClusterClient>().GetGrain<IPingGrain>(0);

            report.Add("orleans_1_1_calls_sync", "calls/s", await Measure.RateAsync(runs, syncCalls, async () =>
            {
                for (var i = 0; i < syncCalls; i++)
                    await grain.SmallValue();
            }));

            const int batch = 1000;
            var pending = new Task<int>[batch];
            report.Add("orleans_1_1_calls_async", "calls/s", await Measure.RateAsync(runs, (long)asyncBatches * batch, async () =>
            {
                for (var b = 0; b < asyncBatches; b++)
                {
                    for (var i = 0; i < batch; i++)
                        pending[i] = grain.SmallValue();
                    await Task.WhenAll(pending);
                }
            }));
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static int FreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
