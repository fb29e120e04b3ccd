using RaySharp.JoinOpt;

namespace RaySharp.JoinOpt.Tests;

public sealed class CostModelTests
{
    // a(1000) b(100) c(10); a.b_id = b.id (sel 0.01), c.a_id = a.id (sel 0.1).
    private static readonly QueryGraph Graph = QueryGraph.FromSql(
        "SELECT MIN(a.x) FROM a AS a, b AS b, c AS c WHERE a.b_id = b.id AND c.a_id = a.id", TestData.Synthetic);

    private static Plan Leaf(int i) => Plan.Leaf(Graph, i);

    [Fact]
    public void Cout_charges_the_output_rows_of_each_join()
    {
        var ab = CostModel.Cout.Join(Graph, Leaf(0), Leaf(1));
        Assert.Equal(1000, ab.Rows, 9);
        Assert.Equal(1000, ab.Cost, 9);
        var abc = CostModel.Cout.Join(Graph, ab, Leaf(2));
        Assert.Equal(1000, abc.Rows, 9);
        Assert.Equal(2000, abc.Cost, 9);
        Assert.Equal(JoinMethod.Join, abc.Method);
    }

    [Fact]
    public void CM1_picks_a_hash_join_when_it_is_cheaper_than_an_index_lookup()
    {
        // HJ(a probe, b build) = 1000 + 2*100 + 1000 = 2200; INL into b.id = 2*1000 + 1000 = 3000.
        var ab = CostModel.CM1.Join(Graph, Leaf(0), Leaf(1));
        Assert.Equal(JoinMethod.HashJoin, ab.Method);
        Assert.Equal(2200, ab.Cost, 9);
        // Orientation matters: HJ(b probe, a build) = 100 + 2000 + 1000; no index on a for b.
        var ba = CostModel.CM1.Join(Graph, Leaf(1), Leaf(0));
        Assert.Equal(3100, ba.Cost, 9);
    }

    [Fact]
    public void CM1_uses_the_primary_key_index_when_lookups_are_cheaper()
    {
        // c(10) looks up a.id: INL = 2*10 + 1000 = 1020 < HJ = 10 + 2000 + 1000.
        var ca = CostModel.CM1.Join(Graph, Leaf(2), Leaf(0));
        Assert.Equal(JoinMethod.IndexNestedLoop, ca.Method);
        Assert.Equal(1020, ca.Cost, 9);
    }

    [Fact]
    public void CM3_reuses_the_hash_table_of_a_base_relation_but_builds_one_for_an_intermediate_result()
    {
        var ca = CostModel.CM3.Join(Graph, Leaf(2), Leaf(0));
        Assert.Equal(JoinMethod.HashJoin, ca.Method);
        Assert.Equal(10 + 1000, ca.Cost, 9);
        // Build side (a ⋈ b) is an intermediate of 1000 rows: c probe = 10 + 2*1000 + out 1000.
        var ab = CostModel.CM3.Join(Graph, Leaf(0), Leaf(1));
        var cab = CostModel.CM3.Join(Graph, Leaf(2), ab);
        Assert.Equal(ab.Cost + 10 + 2000 + 1000, cab.Cost, 9);
    }

    [Fact]
    public void CM2_falls_from_hash_join_to_grace_hash_join_to_nested_loops_as_memory_shrinks()
    {
        // a(1000) probe, b(100) build, out 1000.
        var roomy = new MemoryLimitModel(100_000);
        Assert.Equal(JoinMethod.HashJoin, roomy.Join(Graph, Leaf(0), Leaf(1)).Method);
        Assert.Equal(2200, roomy.Join(Graph, Leaf(0), Leaf(1)).Cost, 9);

        // M = 20: grace = 2200 + 2*(1100) = 4400 < NL = 1000*100 + 1000.
        var tight = new MemoryLimitModel(20).Join(Graph, Leaf(0), Leaf(1));
        Assert.Equal(JoinMethod.GraceHashJoin, tight.Method);
        Assert.Equal(4400, tight.Cost, 9);

        // M = 1: the build side exceeds 64·M, only nested loops: 1000*100 + 1000.
        var tiny = new MemoryLimitModel(1).Join(Graph, Leaf(0), Leaf(1));
        Assert.Equal(JoinMethod.NestedLoop, tiny.Method);
        Assert.Equal(101_000, tiny.Cost, 9);
    }

    [Fact]
    public void A_plan_costs_the_sum_of_its_joins_and_recosting_its_shape_gives_the_same_cost()
    {
        foreach (var model in CostModel.All)
        {
            var plan = model.Join(Graph, model.Join(Graph, Leaf(2), Leaf(0)), Leaf(1));
            var own = plan.Joins().Sum(j => j.Cost - j.Left!.Cost - j.Right!.Cost);
            Assert.Equal(plan.Cost, own, 9);
            Assert.Equal(plan.Cost, model.Recost(Graph, plan).Cost, 9);
        }
    }

    [Fact]
    public void Cost_models_are_found_by_name_and_an_unknown_name_lists_the_known_ones()
    {
        Assert.Same(CostModel.CM2, CostModel.Parse("cm2"));
        var error = Assert.Throws<ArgumentException>(() => CostModel.Parse("CM9"));
        Assert.Contains("Cout, CM1, CM2, CM3", error.Message, StringComparison.Ordinal);
    }
}
