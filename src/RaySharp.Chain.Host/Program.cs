using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using RaySharp.Chain.Controller;
using RaySharp.Chain.Server;
using RaySharp.Security;

namespace RaySharp.Chain.Host;

/// <summary>
/// <c>raysharp-chain controller|server [options]</c>: runs one chain process until SIGTERM or Ctrl+C and
/// prints <c>ready PORT</c> once it listens (used by tests and the benchmark to find ports). Options are parsed by
/// System.CommandLine: every default comes from the options types, and an unknown option is an error.
/// </summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => Commands.Root().Parse(args).InvokeAsync();
}

/// <summary>The two commands and their options.</summary>
internal static class Commands
{
    public static RootCommand Root()
    {
        var root = new RootCommand("One process of a RaySharp chain cluster (docs/chain.md): the controller or a server.");
        root.Subcommands.Add(Controller());
        root.Subcommands.Add(Server());
        return root;
    }

    private static Command Controller()
    {
        var defaults = new ChainControllerOptions();
        var port = Port(defaults.ListenEndPoint);
        var data = new Option<string?>("--data") { Description = "Directory of the fsync'd configuration log (default: in memory; a restarted controller starts an empty cluster)." };
        var replicas = new Option<int>("--replicas") { Description = "Chain length f + 1.", DefaultValueFactory = _ => defaults.Replicas };
        var groups = new Option<int>("--groups") { Description = "Virtual groups keys are hashed into, fixed for the cluster's life.", DefaultValueFactory = _ => defaults.GroupCount };
        var initial = new Option<int?>("--initial-servers") { Description = "Servers that must register before groups are first assigned (default: --replicas)." };
        var failure = Milliseconds("--failure-timeout-ms", "A server silent this long is declared failed.", defaults.FailureTimeout);
        var recovery = Milliseconds("--recovery-delay-ms", "Failure recovery waits this long after a fast failover before naming joiners.", defaults.RecoveryDelay);
        var skipPush = new Option<string?>("--fault-skip-push") { Description = "Fault injection: server ids (comma-separated) that never receive a pushed configuration." };
        var security = new SecurityOptions();
        var command = new Command("controller", "Run the controller: membership, failure detection, failover, recovery.")
        {
            port, data, replicas, groups, initial, failure, recovery, skipPush,
        };
        security.AddTo(command);
        command.SetAction(async (result, cancel) =>
        {
            var options = new ChainControllerOptions
            {
                ListenEndPoint = new IPEndPoint(defaults.ListenEndPoint.Address, result.GetValue(port)),
                DataDirectory = result.GetValue(data),
                Replicas = result.GetValue(replicas),
                GroupCount = result.GetValue(groups),
                InitialServers = result.GetValue(initial),
                FailureTimeout = TimeSpan.FromMilliseconds(result.GetValue(failure)),
                RecoveryDelay = TimeSpan.FromMilliseconds(result.GetValue(recovery)),
            };
            return await RunAsync(async (logger, stop) =>
            {
                options.FaultSkipPushTo = ParseIds(result.GetValue(skipPush));
                (options.Token, options.Tls) = security.Read(result);
                options.Logger = logger;
                await using var controller = await ChainController.StartAsync(options, stop);
                Console.WriteLine($"ready {controller.EndPoint.Port}");
                await WaitAsync(stop);
            }, cancel);
        });
        return command;
    }

    private static Command Server()
    {
        var defaults = new ChainServerOptions();
        var id = new Option<int>("--id") { Description = "This server's id: unique in the cluster, stable across restarts.", Required = true };
        var controller = new Option<IPEndPoint>("--controller")
        {
            Description = "The controller's address, an IP endpoint such as 127.0.0.1:7000.",
            Required = true,
            CustomParser = ParseEndPoint,
        };
        var port = Port(defaults.ListenEndPoint);
        var data = new Option<string?>("--data") { Description = "Directory of the append-only log (default: in memory only)." };
        var fsync = new Option<FsyncPolicy>("--fsync") { Description = "When the log is forced to disk.", DefaultValueFactory = _ => defaults.Fsync, CustomParser = ParseFsync };
        fsync.HelpName = "none|always";
        var readLease = Milliseconds("--read-lease-ms", "How long after an acknowledged heartbeat the server may serve reads.", defaults.ReadLease);
        var compact = new Option<long>("--compact-kb") { Description = "Compact the log once it exceeds this many KiB.", DefaultValueFactory = _ => defaults.LogCompactionBytes / 1024 };
        var faultDelay = Milliseconds("--fault-delay-ms", "Fault injection: each replication frame received waits a random time up to this.", defaults.FaultMaxDelay);
        var faultDrop = new Option<double>("--fault-drop") { Description = "Fault injection: probability that a replication frame closes its connection instead.", DefaultValueFactory = _ => defaults.FaultDropProbability };
        var seed = new Option<int>("--seed") { Description = "Seed of the fault-injection random source.", DefaultValueFactory = _ => defaults.Seed };
        var unsafeReads = new Option<bool>("--unsafe-reads-anywhere") { Description = "Deliberately unsafe, for the checker's negative test: serve reads at any replica." };
        var security = new SecurityOptions();
        var command = new Command("server", "Run one chain server.")
        {
            id, controller, port, data, fsync, readLease, compact, faultDelay, faultDrop, seed, unsafeReads,
        };
        security.AddTo(command);
        command.SetAction(async (result, cancel) =>
        {
            var options = new ChainServerOptions
            {
                ServerId = result.GetValue(id),
                ListenEndPoint = new IPEndPoint(defaults.ListenEndPoint.Address, result.GetValue(port)),
                Controller = result.GetValue(controller),
                DataDirectory = result.GetValue(data),
                Fsync = result.GetValue(fsync),
                ReadLease = TimeSpan.FromMilliseconds(result.GetValue(readLease)),
                FaultMaxDelay = TimeSpan.FromMilliseconds(result.GetValue(faultDelay)),
                FaultDropProbability = result.GetValue(faultDrop),
                Seed = result.GetValue(seed),
                LogCompactionBytes = result.GetValue(compact) * 1024,
                UnsafeReadsAtAnyReplica = result.GetValue(unsafeReads),
            };
            RunSocketCompletionsInline();
            return await RunAsync(async (logger, stop) =>
            {
                (options.Token, options.Tls) = security.Read(result);
                options.Logger = logger;
                await using var server = await ChainServer.StartAsync(options, stop);
                Console.WriteLine($"ready {server.EndPoint.Port}");
                await WaitAsync(stop);
            }, cancel);
        });
        return command;
    }

    /// <summary>The cluster token and TLS options, the same for both commands.</summary>
    private sealed class SecurityOptions
    {
        private readonly Option<string?> _tokenFile = new("--token-file")
        {
            Description = $"File holding the cluster token (mode 0600, owned by this user); default: {ClusterToken.EnvironmentVariable} if set, else no token (docs/security.md).",
        };

        private readonly Option<string?> _tlsCert = new("--tls-cert") { Description = "This process's TLS certificate (PEM). With --tls-key, every connection uses TLS." };
        private readonly Option<string?> _tlsKey = new("--tls-key") { Description = "The private key of --tls-cert (PEM)." };
        private readonly Option<string?> _tlsCa = new("--tls-ca") { Description = "The cluster's CA (PEM): peers must present a certificate it issued (mutual TLS)." };

        public void AddTo(Command command)
        {
            command.Options.Add(_tokenFile);
            command.Options.Add(_tlsCert);
            command.Options.Add(_tlsKey);
            command.Options.Add(_tlsCa);
        }

        /// <summary>Throws <see cref="ClusterTokenException"/> or <see cref="ArgumentException"/> with what was wrong.</summary>
        public (ClusterToken? Token, TlsOptions? Tls) Read(ParseResult result)
        {
            var token = ClusterToken.Resolve(result.GetValue(_tokenFile));
            var cert = result.GetValue(_tlsCert);
            var key = result.GetValue(_tlsKey);
            var ca = result.GetValue(_tlsCa);
            var tls = cert is null && key is null && ca is null ? null : new TlsOptions { CertificatePath = cert, KeyPath = key, CaPath = ca };
            return (token, tls);
        }
    }

    /// <summary>Runs a process body until SIGTERM or Ctrl+C; a bad setting is reported on stderr with exit code 2.</summary>
    private static async Task<int> RunAsync(Func<ILogger, CancellationToken, Task> body, CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        // Logs go to stderr: stdout carries 'ready PORT' for whoever started the process.
        using var logging = LoggerFactory.Create(b => b
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o => o.SingleLine = true));
        try
        {
            await body(logging.CreateLogger("raysharp-chain"), stop.Token);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or ClusterTokenException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static Option<int> Port(IPEndPoint listen) => new("--port")
    {
        Description = $"TCP port to listen on, on {listen.Address} (0: any free port, printed as 'ready PORT').",
        DefaultValueFactory = _ => listen.Port,
    };

    private static Option<int> Milliseconds(string name, string description, TimeSpan fallback) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => (int)fallback.TotalMilliseconds,
    };

    private static IPEndPoint? ParseEndPoint(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port != 0)
            return endPoint;
        result.AddError($"--controller must be an IP endpoint such as 127.0.0.1:7000 (got '{text}').");
        return null;
    }

    private static FsyncPolicy ParseFsync(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        switch (text)
        {
            case "none":
                return FsyncPolicy.None;
            case "always":
                return FsyncPolicy.Always;
            default:
                result.AddError($"--fsync must be 'none' or 'always' (got '{text}').");
                return FsyncPolicy.None;
        }
    }

    private static int[] ParseIds(string? text) =>
        text is null ? [] : [.. text.Split(',').Select(id => int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n : throw new ArgumentException($"--fault-skip-push takes server ids separated by commas (got '{text}')."))];

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
}
