using RaySharp.Chain.Checking;

namespace RaySharp.Chain.Tests;

public sealed class CheckerTests
{
    private static KvOp Op(int client, KvOpKind kind, long call, long ret, bool ok, long version, string? output = null, string? input = null, long expected = 0) =>
        new(client, "x", kind, input, expected, call) { Return = ret, Ok = ok, Version = version, Output = output };

    [Fact]
    public void A_sequential_history_is_linearizable()
    {
        var ops = new[]
        {
            Op(0, KvOpKind.Put, 0, 1, true, 1, input: "a"),
            Op(0, KvOpKind.Get, 2, 3, true, 1, "a"),
            Op(0, KvOpKind.Cas, 4, 5, true, 2, input: "b", expected: 1),
            Op(0, KvOpKind.Delete, 6, 7, true, 3),
            Op(0, KvOpKind.Get, 8, 9, true, 3, null),
        };
        Assert.True(Linearizability.Check(ops).Linearizable);
    }

    [Fact]
    public void A_read_of_the_old_value_after_a_newer_read_returned_is_a_stale_read()
    {
        var ops = new[]
        {
            Op(0, KvOpKind.Put, 0, 100, true, 1, input: "a"),
            Op(1, KvOpKind.Get, 10, 20, true, 1, "a"),
            Op(2, KvOpKind.Get, 30, 40, true, 0, null),
        };
        var result = Linearizability.Check(ops);
        Assert.False(result.Linearizable);
        Assert.Contains("'x'", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_operations_may_take_effect_in_either_order()
    {
        var ops = new[]
        {
            Op(0, KvOpKind.Put, 0, 50, true, 2, input: "a"),
            Op(1, KvOpKind.Put, 10, 60, true, 1, input: "b"),
            Op(2, KvOpKind.Get, 70, 80, true, 2, "a"),
        };
        Assert.True(Linearizability.Check(ops).Linearizable);
    }

    [Fact]
    public void A_write_with_unknown_outcome_may_or_may_not_have_happened()
    {
        var lost = new[]
        {
            new KvOp(0, "x", KvOpKind.Put, "a", 0, 0),
            Op(1, KvOpKind.Get, 10, 20, true, 0, null),
        };
        var applied = new[]
        {
            new KvOp(0, "x", KvOpKind.Put, "a", 0, 0),
            Op(1, KvOpKind.Get, 10, 20, true, 1, "a"),
        };
        Assert.True(Linearizability.Check(lost).Linearizable);
        Assert.True(Linearizability.Check(applied).Linearizable);
    }

    [Fact]
    public void A_lost_acknowledged_write_is_caught_by_its_version()
    {
        var ops = new[]
        {
            Op(0, KvOpKind.Put, 0, 10, true, 1, input: "a"),
            Op(0, KvOpKind.Put, 20, 30, true, 2, input: "b"),
            Op(1, KvOpKind.Put, 40, 50, true, 2, input: "c"),
        };
        Assert.False(Linearizability.Check(ops).Linearizable);
    }
}
