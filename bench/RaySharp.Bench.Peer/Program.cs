using System.Globalization;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RaySharp.Bench.Peer;

/// <summary>
/// <c>RaySharp.Bench.Peer uds-echo &lt;socket path&gt; &lt;message bytes&gt;</c> or
/// <c>RaySharp.Bench.Peer orleans-silo &lt;silo port&gt; &lt;gateway port&gt;</c>. Prints <c>ready</c> on stdout
/// when it serves, and stops when its standard input closes (the benchmark ended or died).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        _ = Task.Run(() =>
        {
            // The parent holds our stdin: when it goes away, so do we.
            Console.In.ReadToEnd();
            stop.Cancel();
        });
        switch (args)
        {
            case ["uds-echo", var path, var size]:
                await EchoAsync(path, int.Parse(size, CultureInfo.InvariantCulture), stop.Token);
                return 0;
            case ["orleans-silo", var siloPort, var gatewayPort]:
                await SiloAsync(int.Parse(siloPort, CultureInfo.InvariantCulture), int.Parse(gatewayPort, CultureInfo.InvariantCulture), stop.Token);
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: RaySharp.Bench.Peer uds-echo <socket path> <message bytes> | orleans-silo <silo port> <gateway port>");
                return 2;
        }
    }

    /// <summary>Accepts one connection and echoes fixed-size messages until the peer closes it.</summary>
    private static async Task EchoAsync(string path, int size, CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        Console.WriteLine("ready");
        using var socket = await listener.AcceptAsync(cancellationToken);
        var buffer = new byte[size];
        while (true)
        {
            for (var read = 0; read < size;)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
                if (n == 0)
                    return;
                read += n;
            }
            await socket.SendAsync(buffer, SocketFlags.None, cancellationToken);
        }
    }

    private static async Task SiloAsync(int siloPort, int gatewayPort, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleans(silo => silo.UseLocalhostClustering(siloPort, gatewayPort));
        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        Console.WriteLine("ready");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
        await host.StopAsync(CancellationToken.None);
    }
}
