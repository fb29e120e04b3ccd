using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using RaySharp.Chain.Controller;
using RaySharp.Chain.Server;

namespace RaySharp.Chain.Host;

/// <summary>
/// <c>raysharp-chain controller|server [options]</c>: runs one chain process until SIGTERM or Ctrl+C and
/// prints <c>ready PORT</c> once it listens (used by tests and the benchmark to find ports).
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage:
          raysharp-chain controller [--port P] [--data DIR] [--replicas N] [--groups G] [--initial-servers N] [--failure-timeout-ms MS] [--recovery-delay-ms MS]
                                    [--fault-skip-push ID,ID...]
          raysharp-chain server --id N --controller HOST:PORT [--port P] [--data DIR] [--fsync none|always]
                                [--read-lease-ms MS] [--compact-kb KB] [--fault-delay-ms MS] [--fault-drop P] [--seed S] [--unsafe-reads-anywhere]
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        Dictionary<string, string> options;
        try
        {
            options = ParseOptions(args.AsSpan(1));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            switch (args[0])
            {
                case "controller":
                    await RunControllerAsync(options, stop.Token);
                    return 0;
                case "server":
                    await RunServerAsync(options, stop.Token);
                    return 0;
                default:
                    Console.Error.WriteLine($"Unknown command '{args[0]}'.");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static async Task RunControllerAsync(Dictionary<string, string> o, CancellationToken stop)
    {
        var options = new ChainControllerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, Int(o, "port", 0)),
            DataDirectory = o.GetValueOrDefault("data"),
            Replicas = Int(o, "replicas", 3),
            GroupCount = Int(o, "groups", 64),
            FailureTimeout = TimeSpan.FromMilliseconds(Int(o, "failure-timeout-ms", 1000)),
            RecoveryDelay = TimeSpan.FromMilliseconds(Int(o, "recovery-delay-ms", 50)),
        };
        if (o.ContainsKey("initial-servers"))
            options.InitialServers = Int(o, "initial-servers", 0);
        if (o.TryGetValue("fault-skip-push", out var skip))
        {
            options.FaultSkipPushTo = [.. skip.Split(',').Select(id => int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n : throw new ArgumentException($"--fault-skip-push takes server ids separated by commas (got '{skip}')."))];
        }
        await using var controller = await ChainController.StartAsync(options, stop);
        Console.WriteLine($"ready {controller.EndPoint.Port}");
        await WaitAsync(stop);
    }

    private static async Task RunServerAsync(Dictionary<string, string> o, CancellationToken stop)
    {
        if (!o.TryGetValue("controller", out var controller) || !IPEndPoint.TryParse(controller, out var controllerEndPoint))
            throw new ArgumentException("--controller HOST:PORT is required and must be an IP endpoint such as 127.0.0.1:7000.");
        var options = new ChainServerOptions
        {
            ServerId = Int(o, "id", -1),
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, Int(o, "port", 0)),
            Controller = controllerEndPoint,
            DataDirectory = o.GetValueOrDefault("data"),
            Fsync = o.GetValueOrDefault("fsync", "none") switch
            {
                "none" => FsyncPolicy.None,
                "always" => FsyncPolicy.Always,
                var other => throw new ArgumentException($"--fsync must be 'none' or 'always' (got '{other}')."),
            },
            ReadLease = TimeSpan.FromMilliseconds(Int(o, "read-lease-ms", 500)),
            FaultMaxDelay = TimeSpan.FromMilliseconds(Int(o, "fault-delay-ms", 0)),
            FaultDropProbability = double.Parse(o.GetValueOrDefault("fault-drop", "0"), CultureInfo.InvariantCulture),
            Seed = Int(o, "seed", 1),
            LogCompactionBytes = Int(o, "compact-kb", 64 * 1024) * 1024L,
            UnsafeReadsAtAnyReplica = o.ContainsKey("unsafe-reads-anywhere"),
        };
        RunSocketCompletionsInline();
        await using var server = await ChainServer.StartAsync(options, stop);
        Console.WriteLine($"ready {server.EndPoint.Port}");
        await WaitAsync(stop);
    }

    /// <summary>
    /// A server runs its socket continuations on the runtime's socket event thread instead of handing each to a
    /// thread-pool worker: every handler is short and never blocks on the network, and with the server's inline
    /// writes (<c>ChainServer.WriteInline</c>) a burst of frames is read, handled and answered by one thread.
    /// Must run before the process opens its first socket (the runtime reads the setting once); an explicit
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c> in the environment wins. Measured in docs/chain.md
    /// "Where a write's time goes".
    /// </summary>
    private static void RunSocketCompletionsInline()
    {
        const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
        if (Environment.GetEnvironmentVariable(Variable) is null)
            Environment.SetEnvironmentVariable(Variable, "1");
    }

    private static async Task WaitAsync(CancellationToken stop)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static int Int(Dictionary<string, string> o, string name, int fallback)
    {
        if (!o.TryGetValue(name, out var text))
            return fallback;
        return int.TryParse(text, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"--{name} must be an integer (got '{text}').");
    }

    private static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{args[i]}'; options look like --name value.");
            var name = args[i][2..];
            if (name == "unsafe-reads-anywhere")
            {
                options[name] = "true";
                continue;
            }
            if (i + 1 >= args.Length)
                throw new ArgumentException($"--{name} needs a value.");
            options[name] = args[++i];
        }
        return options;
    }
}
