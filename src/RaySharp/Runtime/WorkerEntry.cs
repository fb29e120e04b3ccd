using RaySharp.Protocol;

namespace RaySharp.Runtime;

/// <summary>
/// The worker process's main loop, called by the <c>RaySharp.Worker</c> host: connect to the node,
/// say hello, then run what arrives until the node closes the connection.
/// </summary>
internal static class WorkerEntry
{
    public static int Run(string[] args)
    {
        if (args.Length != 2 || !ulong.TryParse(args[1], out var workerId))
        {
            Console.Error.WriteLine("usage: RaySharp.Worker <node socket path> <worker id> (started by a RaySharp node, not by hand)");
            return 2;
        }
        return RunAsync(args[0], workerId).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string socketPath, ulong workerId)
    {
        Executor? executor = null;
        var early = new List<Message>();
        var client = await RemoteClient.ConnectAsync(socketPath, new Hello { WorkerId = workerId, Pid = Environment.ProcessId },
            m =>
            {
                lock (early)
                {
                    if (executor is null)
                    {
                        early.Add(m);
                        return;
                    }
                }
                executor.Receive(m);
            }, CancellationToken.None).ConfigureAwait(false);
        var ray = new Ray(client, ownedHead: null);
        Ray.SetProcessDefault(ray);
        lock (early)
        {
            executor = new Executor(ray, client.Store, client.Send);
            foreach (var m in early)
                executor.Receive(m);
        }
        await client.Closed.ConfigureAwait(false);
        executor.Dispose();
        return 0;
    }
}
