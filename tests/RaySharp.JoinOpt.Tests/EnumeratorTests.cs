using System.Numerics;
using RaySharp.JoinOpt;
using RaySharp.JoinOpt.Enumerators;

namespace RaySharp.JoinOpt.Tests;

public sealed class EnumeratorTests
{
    private const string Cyclic = """
        SELECT MIN(a.x) FROM a AS a, b AS b, c AS c, d AS d, e AS e
        WHERE a.x = 1 AND a.b_id = b.id AND c.a_id = a.id AND b.c_id = c.id AND d.b_id = b.id AND e.c_id = c.id
        """;

    private const string Tree = """
        SELECT MIN(a.x) FROM a AS a, b AS b, c AS c, d AS d, e AS e
        WHERE b.x > 5 AND a.b_id = b.id AND c.a_id = a.id AND d.b_id = b.id AND e.c_id = c.id
        """;

    /// <summary>Reference optimum by DPsub: every connected set, every split into two connected, adjacent halves, both orientations.</summary>
    private static double BruteForceBushy(QueryGraph graph, CostModel model)
    {
        var best = new Dictionary<ulong, Plan>();
        for (var i = 0; i < graph.Count; i++)
            best[1UL << i] = Plan.Leaf(graph, i);
        for (var set = 1UL; set <= graph.All; set++)
        {
            if (BitOperations.IsPow2(set) || !graph.IsConnected(set))
                continue;
            for (var left = (set - 1) & set; left != 0; left = (left - 1) & set)
            {
                var right = set & ~left;
                if (!best.TryGetValue(left, out var l) || !best.TryGetValue(right, out var r) || !graph.Connected(left, right))
                    continue;
                var plan = model.Join(graph, l, r);
                if (!best.TryGetValue(set, out var current) || plan.Cost < current.Cost)
                    best[set] = plan;
            }
        }
        return best[graph.All].Cost;
    }

    /// <summary>Reference left-deep optimum: every order whose prefixes stay connected.</summary>
    private static double BruteForceLeftDeep(QueryGraph graph, CostModel model, Plan? prefix = null)
    {
        if (prefix is not null && prefix.Relations == graph.All)
            return prefix.Cost;
        var best = double.PositiveInfinity;
        for (var r = 0; r < graph.Count; r++)
        {
            var bit = 1UL << r;
            if (prefix is null)
                best = Math.Min(best, BruteForceLeftDeep(graph, model, Plan.Leaf(graph, r)));
            else if ((prefix.Relations & bit) == 0 && graph.Connected(prefix.Relations, bit))
                best = Math.Min(best, BruteForceLeftDeep(graph, model, model.Join(graph, prefix, Plan.Leaf(graph, r))));
        }
        return best;
    }

    [Theory]
    [InlineData(Cyclic)]
    [InlineData(Tree)]
    public void Exhaustive_and_left_deep_DP_match_brute_force_on_every_cost_model(string sql)
    {
        var graph = QueryGraph.FromSql(sql, TestData.Synthetic);
        foreach (var model in CostModel.All)
        {
            Assert.Equal(BruteForceBushy(graph, model), JoinEnumerator.Exhaustive.Optimize(graph, model).Cost, 9);
            Assert.Equal(BruteForceLeftDeep(graph, model), JoinEnumerator.LeftDeep.Optimize(graph, model).Cost, 9);
        }
    }

    [Fact]
    public void DPccp_matches_DPsub_on_the_shipped_queries_of_up_to_ten_relations()
    {
        var models = CostModel.All;
        var checkedQueries = 0;
        foreach (var file in TestData.JobQueryFiles)
        {
            var graph = QueryGraph.FromFile(file, TestData.Job);
            if (graph.Count > 10)
                continue;
            var model = models[checkedQueries++ % models.Count];
            var expected = BruteForceBushy(graph, model);
            Assert.Equal(1.0, JoinEnumerator.Exhaustive.Optimize(graph, model).Cost / expected, 9);
        }
        Assert.True(checkedQueries > 20, $"only {checkedQueries} queries had at most ten relations");
    }

    [Fact]
    public void Every_method_returns_a_complete_plan_of_the_right_shape_never_cheaper_than_exhaustive()
    {
        foreach (var file in TestData.JobQueryFiles.Where((_, i) => i % 3 == 0))
        {
            var graph = QueryGraph.FromFile(file, TestData.Job);
            foreach (var model in CostModel.All)
            {
                var optimum = JoinEnumerator.Exhaustive.Optimize(graph, model).Cost;
                foreach (var method in JoinEnumerator.Classical)
                {
                    var result = method.Optimize(graph, model);
                    var leaves = Leaves(result.Plan).ToList();
                    Assert.Equal(Enumerable.Range(0, graph.Count), leaves.Order());
                    Assert.True(result.Cost >= optimum * (1 - 1e-9), $"{method.Name} beat exhaustive on {graph.Name}/{model.Name}: {result.Cost} < {optimum}");
                    Assert.Equal(1.0, model.Recost(graph, result.Plan).Cost / result.Cost, 9);
                    if (method == JoinEnumerator.LeftDeep || method == JoinEnumerator.IkKbz)
                        Assert.True(result.Plan.IsLeftDeep, $"{method.Name} on {graph.Name}");
                    if (method == JoinEnumerator.RightDeep)
                        Assert.True(result.Plan.IsRightDeep, graph.Name);
                }
            }
        }
    }

    [Fact]
    public void Zig_zag_is_at_least_as_good_as_left_deep_and_right_deep()
    {
        var graph = QueryGraph.FromSql(Cyclic, TestData.Synthetic);
        foreach (var model in CostModel.All)
        {
            var zigzag = JoinEnumerator.ZigZag.Optimize(graph, model).Cost;
            Assert.True(zigzag <= JoinEnumerator.LeftDeep.Optimize(graph, model).Cost + 1e-9);
            Assert.True(zigzag <= JoinEnumerator.RightDeep.Optimize(graph, model).Cost + 1e-9);
        }
    }

    [Fact]
    public void IK_KBZ_finds_the_optimal_left_deep_plan_for_Cout_on_an_acyclic_query()
    {
        var graph = QueryGraph.FromSql(Tree, TestData.Synthetic);
        Assert.Equal(JoinEnumerator.LeftDeep.Optimize(graph, CostModel.Cout).Cost, JoinEnumerator.IkKbz.Optimize(graph, CostModel.Cout).Cost, 9);
    }

    [Fact]
    public void QuickPick_is_deterministic_for_its_seed()
    {
        var graph = QueryGraph.FromFile(Path.Combine(TestData.JobQueries, "29a.sql"), TestData.Job);
        var first = JoinEnumerator.QuickPick.Optimize(graph, CostModel.CM1).Plan;
        var second = JoinEnumerator.QuickPick.Optimize(graph, CostModel.CM1).Plan;
        Assert.Equal(first.ToString(graph), second.ToString(graph));
    }

    [Fact]
    public void The_plan_tree_prints_operators_rows_costs_and_selections()
    {
        var graph = QueryGraph.FromSql(Cyclic, TestData.Synthetic);
        var tree = JoinEnumerator.Exhaustive.Optimize(graph, CostModel.CM1).Plan.ToTree(graph);
        Assert.Contains("Scan a AS a  rows=100  where a.x = 1", tree, StringComparison.Ordinal);
        Assert.Contains("cost=", tree, StringComparison.Ordinal);
        Assert.Equal(5, tree.Split('\n').Count(l => l.Contains("Scan ", StringComparison.Ordinal)));
    }

    private static IEnumerable<int> Leaves(Plan plan) =>
        plan.IsLeaf ? [plan.Relation] : Leaves(plan.Left!).Concat(Leaves(plan.Right!));
}
