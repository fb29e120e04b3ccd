using System.Diagnostics;

namespace RaySharp.JoinOpt.Enumerators;

/// <summary>What an enumerator returns: the plan (with physical joins and costs) and how long planning took.</summary>
/// <param name="Method">The enumerator's name.</param>
/// <param name="Plan">The chosen plan; its <see cref="JoinOpt.Plan.Cost"/> is under <paramref name="Model"/>.</param>
/// <param name="Model">The cost model planned for.</param>
/// <param name="PlanningTime">Wall-clock time spent planning.</param>
public sealed record PlanResult(string Method, Plan Plan, CostModel Model, TimeSpan PlanningTime)
{
    /// <summary>The plan's cost under <see cref="Model"/>.</summary>
    public double Cost => Plan.Cost;
}

/// <summary>A join-order enumerator: given a query graph and a cost model, it returns a plan.</summary>
public abstract class JoinEnumerator
{
    private protected JoinEnumerator() { }

    /// <summary>Short name used in tables and plots.</summary>
    public abstract string Name { get; }

    /// <summary>Plans <paramref name="graph"/> for <paramref name="model"/> and times it.</summary>
    public PlanResult Optimize(QueryGraph graph, CostModel model)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(model);
        var start = Stopwatch.GetTimestamp();
        var plan = Enumerate(graph, model);
        var elapsed = Stopwatch.GetElapsedTime(start);
        return new PlanResult(Name, plan, model, elapsed);
    }

    /// <summary>Finds the plan.</summary>
    private protected abstract Plan Enumerate(QueryGraph graph, CostModel model);

    /// <summary>Exhaustive bushy dynamic programming without cross products (DPccp).</summary>
    public static JoinEnumerator Exhaustive { get; } = new DpCcp();

    /// <summary>Dynamic programming over left-deep plans (every right input a base relation).</summary>
    public static JoinEnumerator LeftDeep { get; } = new LinearDp(LinearShape.LeftDeep);

    /// <summary>Dynamic programming over right-deep plans (every left input a base relation).</summary>
    public static JoinEnumerator RightDeep { get; } = new LinearDp(LinearShape.RightDeep);

    /// <summary>Dynamic programming over zig-zag plans (every join has a base relation on one side).</summary>
    public static JoinEnumerator ZigZag { get; } = new LinearDp(LinearShape.ZigZag);

    /// <summary>IK-KBZ on a minimum-selectivity spanning tree, best root under the cost model.</summary>
    public static JoinEnumerator IkKbz { get; } = new IkKbz();

    /// <summary>Greedy: repeatedly joins the two connected sub-plans with the most selective predicates.</summary>
    public static JoinEnumerator MinSelectivity { get; } = new MinSelectivity();

    /// <summary>QuickPick-1000: the best of 1000 random bushy plans built from random edge orders (seed 42).</summary>
    public static JoinEnumerator QuickPick { get; } = new QuickPick(1000, 42);

    /// <summary>The seven classical enumerators, exhaustive first.</summary>
    public static IReadOnlyList<JoinEnumerator> Classical { get; } = [Exhaustive, LeftDeep, RightDeep, ZigZag, IkKbz, MinSelectivity, QuickPick];
}
