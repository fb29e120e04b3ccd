using RaySharp.Runtime.Node;

namespace RaySharp;

/// <summary>
/// A standalone node without a driver of its own (what <c>raysharp start --head</c> runs): drivers
/// attach with <see cref="RayOptions.Address"/> = <see cref="Address"/>, and the node starts workers for
/// each attached driver's job from that driver's application folder. Dispose to stop it.
/// </summary>
public sealed class RayNode : IAsyncDisposable
{
    private readonly Head _head;

    private RayNode(Head head) => _head = head;

    /// <summary>The address drivers attach to: <c>unix:/tmp/raysharp/session-…/node.sock</c>.</summary>
    public string Address => _head.Address!;

    /// <summary>Starts a node with <paramref name="options"/>' resources (NumCpus, MemoryBytes, Resources, ObjectStoreBytes).</summary>
    /// <param name="options">The node's resources; Address and LocalMode must be unset.</param>
    public static RayNode Start(RayOptions? options = null)
    {
        options ??= new RayOptions();
        options.Validate();
        if (options.LocalMode || options.Address is not null)
            throw new ArgumentException("A standalone node listens on its own socket; LocalMode and Address do not apply.", nameof(options));
        var head = new Head(options, localMode: false);
        head.Start(driver: null);
        return new RayNode(head);
    }

    /// <summary>The node's state (resources, workers, tasks, actors, objects, store) as JSON.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public ValueTask<string> StatusAsync(CancellationToken cancellationToken = default) => _head.StatusAsync(false, cancellationToken);

    /// <summary>Stops the node and every worker it started.</summary>
    public ValueTask DisposeAsync() => _head.DisposeAsync();
}
