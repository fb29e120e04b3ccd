using RaySharp.Protocol;

namespace RaySharp.Runtime.Scheduling;

/// <summary>
/// Where a node sends a task it cannot place itself: the global scheduler of a multi-node cluster,
/// which picks another node from heartbeated load, free resources and argument locality. The single
/// node built so far has none, so an infeasible request fails at once with a message naming what is
/// missing; a multi-node cluster plugs its global scheduler in here.
/// </summary>
internal interface ISpillTarget
{
    /// <summary>Takes the task if some other node can run it; false if none can.</summary>
    bool TrySpill(TaskSpec spec, ResourceSet demand);
}

/// <summary>The local scheduler's decisions, separated from the node's bookkeeping.</summary>
internal interface IScheduler
{
    /// <summary>Everything the node has.</summary>
    ResourceSet Total { get; }

    /// <summary>What is not held by running tasks and actors.</summary>
    ResourceSet Available { get; }

    /// <summary>The global scheduler, or null on a single node.</summary>
    ISpillTarget? SpillTarget { get; }

    /// <summary>True if the node could ever run <paramref name="demand"/> (it fits the node's total).</summary>
    bool IsFeasible(ResourceSet demand);

    /// <summary>Takes <paramref name="demand"/> from what is available, or returns false.</summary>
    bool TryAcquire(ResourceSet demand);

    /// <summary>Gives <paramref name="demand"/> back.</summary>
    void Release(ResourceSet demand);
}

/// <summary>The single-node scheduler: resource accounting against the node's total.</summary>
internal sealed class LocalScheduler(ResourceSet total, ISpillTarget? spillTarget = null) : IScheduler
{
    public ResourceSet Total { get; } = total;

    public ResourceSet Available { get; } = total.Clone();

    public ISpillTarget? SpillTarget { get; } = spillTarget;

    public bool IsFeasible(ResourceSet demand) => Total.Covers(demand);

    public bool TryAcquire(ResourceSet demand)
    {
        if (!Available.Covers(demand))
            return false;
        Available.Subtract(demand);
        return true;
    }

    public void Release(ResourceSet demand) => Available.Add(demand);
}
