using RaySharp.Control;

namespace RaySharp;

/// <summary>
/// A snapshot of the cluster (<see cref="Ray.StatusAsync"/>, <see cref="RayNode.StatusAsync"/>): one entry per
/// node with its resources, object store usage, workers and counts — what <c>raysharp status</c> prints.
/// </summary>
/// <example>
/// <code>
/// var status = await ray.StatusAsync();
/// var node = status.Nodes[0];
/// Console.WriteLine($"{node.ResourcesAvailable["CPU"]} of {node.ResourcesTotal["CPU"]} CPUs free, {node.TaskCount} tasks, {node.ActorCount} actors");
/// </code>
/// </example>
/// <param name="Nodes">The nodes of the cluster (one today: the node this driver belongs to).</param>
public sealed record RayStatus(IReadOnlyList<RayNodeStatus> Nodes)
{
    internal static RayStatus From(ClusterStatus status) => new([.. status.Nodes.Select(RayNodeStatus.From)]);
}

/// <summary>One node's state.</summary>
/// <param name="NodeId">The node's id (<c>node-…</c>).</param>
/// <param name="Pid">The node's process id (a driver's, for an embedded node).</param>
/// <param name="Embedded">True when the node lives inside a driver (<see cref="Ray.InitAsync"/> without an address).</param>
/// <param name="ControlAddresses">Where its control service listens: <c>unix:/…/control.sock</c>, then <c>host:port</c> when TCP is on.</param>
/// <param name="ResourcesTotal">Every resource the node offers (<c>CPU</c>, <c>memory</c> in bytes, custom ones) and its amount.</param>
/// <param name="ResourcesAvailable">What is not held by running tasks and live actors, by the same names.</param>
/// <param name="ObjectStore">The shared-memory object store's usage.</param>
/// <param name="Workers">The node's worker processes.</param>
/// <param name="TaskCount">Tasks submitted and not finished (waiting for arguments, queued or running); actor calls not included.</param>
/// <param name="ActorCount">Actors not dead (starting, alive or restarting).</param>
/// <param name="ObjectCount">Objects the node knows (pending, ready or failed).</param>
/// <param name="InlineObjectBytes">Bytes of small values kept in the node's memory (values over 100 KiB live in the object store).</param>
/// <param name="JobCount">Jobs (drivers) attached to the node.</param>
public sealed record RayNodeStatus(
    string NodeId,
    int Pid,
    bool Embedded,
    IReadOnlyList<string> ControlAddresses,
    IReadOnlyDictionary<string, double> ResourcesTotal,
    IReadOnlyDictionary<string, double> ResourcesAvailable,
    ObjectStoreStatus ObjectStore,
    IReadOnlyList<RayWorkerStatus> Workers,
    int TaskCount,
    int ActorCount,
    long ObjectCount,
    long InlineObjectBytes,
    int JobCount)
{
    internal static RayNodeStatus From(NodeStatus n)
    {
        var store = n.ObjectStore ?? new ObjectStoreUsage();
        return new RayNodeStatus(
            n.NodeId,
            n.Pid,
            n.Embedded,
            [.. n.ControlAddresses],
            n.Resources.ToDictionary(r => r.Name, r => r.Total, StringComparer.Ordinal),
            n.Resources.ToDictionary(r => r.Name, r => r.Available, StringComparer.Ordinal),
            new ObjectStoreStatus(store.CapacityBytes, store.UsedBytes, store.ObjectCount, store.SpilledCount, store.SpilledBytes, store.TotalSpills),
            [.. n.Workers.Select(w => new RayWorkerStatus(w.Id, w.Pid, w.Kind, w.State, w.JobId, [.. w.Running]))],
            n.TaskCount,
            n.ActorCount,
            n.ObjectCount,
            n.InlineObjectBytes,
            n.JobCount);
    }
}

/// <summary>A node's shared-memory object store.</summary>
/// <param name="CapacityBytes">The store's capacity (<see cref="RayOptions.ObjectStoreBytes"/>).</param>
/// <param name="UsedBytes">Bytes held by objects in memory.</param>
/// <param name="ObjectCount">Objects in the store, in memory or spilled.</param>
/// <param name="SpilledCount">Objects spilled to disk now.</param>
/// <param name="SpilledBytes">Bytes spilled to disk now.</param>
/// <param name="TotalSpills">Objects spilled since the node started.</param>
public sealed record ObjectStoreStatus(long CapacityBytes, long UsedBytes, long ObjectCount, long SpilledCount, long SpilledBytes, long TotalSpills);

/// <summary>One worker process of a node.</summary>
/// <param name="Id">The worker's number on its node.</param>
/// <param name="Pid">Its process id (0 while it starts).</param>
/// <param name="Kind"><c>task</c> (a pooled task runner) or <c>actor</c> (the host of one actor).</param>
/// <param name="State"><c>starting</c>, <c>idle</c> or <c>busy</c>.</param>
/// <param name="JobId">The job whose code it runs.</param>
/// <param name="Running">Names of the tasks or actor calls it holds (at most 16).</param>
public sealed record RayWorkerStatus(ulong Id, int Pid, string Kind, string State, string JobId, IReadOnlyList<string> Running);
