using RaySharp.Runtime.Node;

namespace RaySharp;

/// <summary>
/// A standalone node without a driver of its own (what <c>raysharp start --head</c> runs): drivers
/// attach with <see cref="RayOptions.Address"/> = <see cref="Address"/>, and the node starts workers for
/// each attached driver's job from that driver's application folder. Its gRPC control service
/// (<see cref="Control.NodeControl"/>) answers tools and can stop it (<see cref="ShutdownRequested"/>).
/// Dispose to stop it.
/// </summary>
/// <example>
/// <code>
/// await using var node = await RayNode.StartAsync(new RayOptions { NumCpus = 2, ControlPort = 6379 });
/// Console.WriteLine($"RAYSHARP_ADDRESS={node.Address}");
/// await node.ShutdownRequested;   // until 'raysharp stop' (the Shutdown call)
/// </code>
/// </example>
public sealed class RayNode : IAsyncDisposable
{
    private readonly Head _head;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RayNode(Head head)
    {
        _head = head;
        head.ShutdownRequested = () => _shutdown.TrySetResult();
    }

    /// <summary>The address drivers attach to: the control service's socket, <c>unix:/tmp/raysharp-&lt;uid&gt;/session-…/control.sock</c>.</summary>
    public string Address => _head.Address!;

    /// <summary>
    /// Every address the control service listens on: the Unix socket, then <c>host:port</c> when
    /// <see cref="RayOptions.ControlPort"/> is set. Bound to every interface (<see cref="RayOptions.ControlHost"/>
    /// <c>0.0.0.0</c>), the TCP entries are this machine's own addresses (not loopback), one per address, so any
    /// of them can be handed to a tool on another machine; the host name when the machine has none.
    /// </summary>
    public IReadOnlyList<string> ControlAddresses => [.. _head.NodeInfo().ControlAddresses];

    /// <summary>Completes when a client asked the node to stop (the control service's Shutdown, <c>raysharp stop</c>).</summary>
    public Task ShutdownRequested => _shutdown.Task;

    /// <summary>Starts a node and waits until its control service listens.</summary>
    /// <param name="options">The node's resources (NumCpus, MemoryBytes, Resources, ObjectStoreBytes) and control port; Address and LocalMode must be unset.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <exception cref="RaySystemException">The control service could not listen (e.g. the port is taken).</exception>
    public static async Task<RayNode> StartAsync(RayOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RayOptions();
        options.Validate();
        if (options.LocalMode || options.Address is not null)
            throw new ArgumentException("A standalone node listens on its own socket; LocalMode and Address do not apply.", nameof(options));
        var head = new Head(options, localMode: false);
        try
        {
            head.Start(driver: null);
            await head.ControlReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await head.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new RayNode(head);
    }

    /// <summary>
    /// The per-user folder where nodes (standalone or embedded in a driver) keep their session folders
    /// (sockets) and the <c>raysharp</c> CLI its head records and logs: <c>$RAYSHARP_HOME</c> when set, else
    /// <c>$XDG_RUNTIME_DIR/raysharp</c> when that is a folder of this user, else <c>/tmp/raysharp-&lt;uid&gt;</c>.
    /// Created with mode 0700; an existing one must be a folder owned by this user (it is set to 0700).
    /// A node that starts removes the session folders of nodes and drivers whose process is gone.
    /// </summary>
    /// <exception cref="RaySystemException">The folder is not usable (another user's, a link, not writable); the message says which and what to do.</exception>
    public static string RuntimeDirectory => Runtime.RuntimeDirectory.Resolve();

    /// <summary>Blocking form of <see cref="StartAsync"/>.</summary>
    /// <param name="options">The node's resources; Address and LocalMode must be unset.</param>
    public static RayNode Start(RayOptions? options = null) => StartAsync(options).GetAwaiter().GetResult();

    /// <summary>The node's state: resources total and available, object store usage, workers and counts.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async ValueTask<RayStatus> StatusAsync(CancellationToken cancellationToken = default) =>
        RayStatus.From(await _head.StatusAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Stops the node and every worker it started.</summary>
    public ValueTask DisposeAsync() => _head.DisposeAsync();
}
