using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace RaySharp.Bench.Chain;

/// <summary>A 3-member ensemble of a peer system (ZooKeeper 3.8 or etcd 3.4) started on loopback by the benchmark.</summary>
internal abstract class PeerEnsemble : IAsyncDisposable
{
    private readonly List<Process> _processes = [];

    protected PeerEnsemble(string root) => Root = root;

    protected string Root { get; }

    /// <summary>Client addresses of the members.</summary>
    public List<IPEndPoint> Clients { get; } = [];

    protected void Launch(string file, IEnumerable<string> args, string log)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>Retries <paramref name="probe"/> until it succeeds or 60 s pass.</summary>
    protected static async Task WaitReadyAsync(string what, Func<Task> probe, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                await probe();
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or Grpc.Core.RpcException or TimeoutException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                last = e;
            }
            await Task.Delay(200, cancellationToken);
        }
        throw new TimeoutException($"{what} did not become ready within 60 s: {last?.Message}");
    }

    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>ZooKeeper 3.8 from the Debian package: three QuorumPeerMain JVMs. Durable = forceSync (fsync per write, the default).</summary>
internal sealed class ZooKeeperEnsemble(string root) : PeerEnsemble(root)
{
    public static bool Installed => File.Exists("/usr/share/java/zookeeper.jar") && File.Exists("/usr/bin/java");

    public static async Task<ZooKeeperEnsemble> StartAsync(string root, bool durable, CancellationToken cancellationToken)
    {
        var ensemble = new ZooKeeperEnsemble(root);
        var quorum = Enumerable.Range(1, 3).Select(_ => (Peer: FreePort(), Election: FreePort(), Client: FreePort())).ToArray();
        for (var i = 1; i <= 3; i++)
        {
            var dir = Path.Combine(root, $"zk{i}");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "myid"), i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var config = Path.Combine(dir, "zoo.cfg");
            File.WriteAllLines(config,
            [
                "tickTime=200", "initLimit=50", "syncLimit=25", $"dataDir={dir}", $"clientPort={quorum[i - 1].Client}",
                "clientPortAddress=127.0.0.1", "admin.enableServer=false", "maxClientCnxns=0", $"forceSync={(durable ? "yes" : "no")}",
                .. Enumerable.Range(1, 3).Select(j => $"server.{j}=127.0.0.1:{quorum[j - 1].Peer}:{quorum[j - 1].Election}"),
            ]);
            ensemble.Launch("/usr/bin/java",
                ["-Xmx512m", "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar", "-Dzookeeper.root.logger=WARN,CONSOLE",
                 "-Dzookeeper.console.threshold=WARN", "org.apache.zookeeper.server.quorum.QuorumPeerMain", config],
                Path.Combine(dir, "server.log"));
            ensemble.Clients.Add(new IPEndPoint(IPAddress.Loopback, quorum[i - 1].Client));
        }
        foreach (var client in ensemble.Clients)
        {
            await WaitReadyAsync($"ZooKeeper member {client}", async () =>
            {
                await using var zk = await ZooKeeperClient.ConnectAsync(client, TimeSpan.FromSeconds(10), cancellationToken).WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
                await zk.ExistsAsync("/").WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
                await zk.CreateAsync("/ready" + client.Port, []).WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
            }, cancellationToken);
        }
        return ensemble;
    }
}

/// <summary>
/// etcd 3.4 from the Debian package: three members. etcd 3.4 always fsyncs its WAL; "durability off" puts
/// the data directories on tmpfs (/dev/shm), where fsync costs nothing.
/// </summary>
internal sealed class EtcdEnsemble(string root) : PeerEnsemble(root)
{
    public static bool Installed => File.Exists("/usr/bin/etcd");

    public static async Task<EtcdEnsemble> StartAsync(string root, CancellationToken cancellationToken)
    {
        var ensemble = new EtcdEnsemble(root);
        var ports = Enumerable.Range(1, 3).Select(_ => (Peer: FreePort(), Client: FreePort())).ToArray();
        var cluster = string.Join(',', Enumerable.Range(1, 3).Select(i => $"e{i}=http://127.0.0.1:{ports[i - 1].Peer}"));
        for (var i = 1; i <= 3; i++)
        {
            var dir = Path.Combine(root, $"etcd{i}");
            Directory.CreateDirectory(dir);
            var (peer, client) = ports[i - 1];
            ensemble.Launch("/usr/bin/etcd",
            [
                "--name", $"e{i}", "--data-dir", Path.Combine(dir, "data"),
                "--listen-client-urls", $"http://127.0.0.1:{client}", "--advertise-client-urls", $"http://127.0.0.1:{client}",
                "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
                "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "raysharp-bench",
                "--log-level", "warn",
            ], Path.Combine(dir, "server.log"));
            ensemble.Clients.Add(new IPEndPoint(IPAddress.Loopback, client));
        }
        foreach (var client in ensemble.Clients)
        {
            await WaitReadyAsync($"etcd member {client}", async () =>
            {
                using var etcd = new dotnet_etcd.EtcdClient($"http://{client}");
                await etcd.PutAsync("ready", "1", cancellationToken: cancellationToken).WaitAsync(TimeSpan.FromSeconds(3), cancellationToken);
            }, cancellationToken);
        }
        return ensemble;
    }
}
