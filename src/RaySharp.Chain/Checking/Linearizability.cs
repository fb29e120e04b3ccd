using System.Diagnostics;

namespace RaySharp.Chain.Checking;

/// <summary>The kind of a recorded key-value operation.</summary>
internal enum KvOpKind
{
    Get,
    Put,
    Delete,
    Cas,
}

/// <summary>
/// One operation of a history: what was asked, what came back, and when (Stopwatch ticks). An operation
/// whose outcome is unknown (the client saw a timeout or an indeterminate write) has
/// <see cref="Return"/> = <see cref="long.MaxValue"/> and may or may not have taken effect.
/// </summary>
internal sealed record KvOp(int Client, string Key, KvOpKind Kind, string? Input, long Expected, long Call)
{
    public long Return { get; set; } = long.MaxValue;

    public bool Ok { get; set; }

    public long Version { get; set; }

    public string? Output { get; set; }

    public bool Unknown => Return == long.MaxValue;

    public override string ToString() =>
        $"c{Client} {Kind}({Key}{(Input is null ? "" : "=" + Input)}{(Kind == KvOpKind.Cas ? $" if v{Expected}" : "")}) → " +
        (Unknown ? "?" : $"{(Ok ? "ok" : "no")} v{Version} {Output ?? "∅"}");
}

/// <summary>Thread-safe recorder of a concurrent history.</summary>
internal sealed class HistoryRecorder
{
    private readonly List<KvOp> _ops = [];

    public IReadOnlyList<KvOp> Ops
    {
        get
        {
            lock (_ops)
                return [.. _ops];
        }
    }

    public KvOp Begin(int client, string key, KvOpKind kind, string? input = null, long expected = 0)
    {
        var op = new KvOp(client, key, kind, input, expected, Stopwatch.GetTimestamp());
        lock (_ops)
            _ops.Add(op);
        return op;
    }

    public static void End(KvOp op, bool ok, long version, string? output)
    {
        op.Ok = ok;
        op.Version = version;
        op.Output = output;
        op.Return = Stopwatch.GetTimestamp();
    }
}

/// <summary>The result of checking one key's history.</summary>
internal sealed record CheckResult(bool Linearizable, string Key, int Operations, string Explanation);

/// <summary>
/// A linearizability checker for key-value histories: the Wing–Gong search with Lowe's memoisation of
/// (linearised set, state), run separately for each key (P-compositionality, as Porcupine does). The
/// model is a register with a version that every put, delete and successful CAS increments, so outputs
/// (versions included) pin the order down and the search stays small.
/// </summary>
internal static class Linearizability
{
    private readonly record struct State(long Version, string? Value);

    /// <summary>Checks every key; returns the first failure, or a success covering all keys.</summary>
    public static CheckResult Check(IReadOnlyList<KvOp> history)
    {
        var total = 0;
        foreach (var group in history.GroupBy(o => o.Key, StringComparer.Ordinal))
        {
            var result = CheckKey(group.Key, [.. group]);
            total += result.Operations;
            if (!result.Linearizable)
                return result;
        }
        return new CheckResult(true, "*", total, $"{total} operations on {history.Select(o => o.Key).Distinct().Count()} keys are linearizable.");
    }

    private sealed class Node
    {
        public KvOp Op = null!;
        public int Id;
        public bool IsCall;
        public Node? Match;
        public Node? Prev;
        public Node? Next;
    }

    public static CheckResult CheckKey(string key, IReadOnlyList<KvOp> ops)
    {
        // Events sorted by time; at equal times calls come first (the operations overlap).
        var events = new List<(long Time, bool Call, int Id)>(ops.Count * 2);
        for (var i = 0; i < ops.Count; i++)
        {
            events.Add((ops[i].Call, true, i));
            events.Add((ops[i].Return, false, i));
        }
        events.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : b.Call.CompareTo(a.Call));
        var head = new Node();
        var tail = head;
        var calls = new Node[ops.Count];
        foreach (var (_, call, id) in events)
        {
            var node = new Node { Op = ops[id], Id = id, IsCall = call, Prev = tail };
            tail.Next = node;
            tail = node;
            if (call)
                calls[id] = node;
            else
            {
                calls[id].Match = node;
                node.Match = calls[id];
            }
        }

        var linearized = new ulong[(ops.Count + 63) / 64];
        var cache = new HashSet<(string Bits, State State)>();
        var stack = new Stack<(Node Call, State Before)>();
        var state = new State(0, null);
        var entry = head.Next;
        var longest = 0;
        while (head.Next is not null)
        {
            if (entry!.IsCall)
            {
                if (Step(state, entry.Op, out var next))
                {
                    linearized[entry.Id / 64] |= 1UL << (entry.Id % 64);
                    if (cache.Add((Bits(linearized), next)))
                    {
                        stack.Push((entry, state));
                        longest = Math.Max(longest, stack.Count);
                        state = next;
                        Lift(entry);
                        entry = head.Next;
                        continue;
                    }
                    linearized[entry.Id / 64] &= ~(1UL << (entry.Id % 64));
                }
                entry = entry.Next;
            }
            else
            {
                if (stack.Count == 0)
                {
                    var stuck = entry.Op;
                    return new CheckResult(false, key, ops.Count,
                        $"Key '{key}': no linearization explains {stuck} given the {longest} operations that could be ordered before it; " +
                        $"concurrent with it: {string.Join("; ", ops.Where(o => o.Call < stuck.Return && o.Return > stuck.Call && o != stuck).Take(6))}.");
                }
                var (call, before) = stack.Pop();
                state = before;
                linearized[call.Id / 64] &= ~(1UL << (call.Id % 64));
                Unlift(call);
                entry = call.Next;
            }
        }
        return new CheckResult(true, key, ops.Count, $"{ops.Count} operations on '{key}' are linearizable.");
    }

    private static string Bits(ulong[] bits) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()));

    private static void Lift(Node call)
    {
        call.Prev!.Next = call.Next;
        call.Next!.Prev = call.Prev;
        var ret = call.Match!;
        ret.Prev!.Next = ret.Next;
        if (ret.Next is not null)
            ret.Next.Prev = ret.Prev;
    }

    private static void Unlift(Node call)
    {
        var ret = call.Match!;
        ret.Prev!.Next = ret;
        if (ret.Next is not null)
            ret.Next.Prev = ret;
        call.Prev!.Next = call;
        call.Next!.Prev = call;
    }

    /// <summary>The sequential specification. Unknown outcomes accept whatever the model does.</summary>
    private static bool Step(State state, KvOp op, out State next)
    {
        next = state;
        switch (op.Kind)
        {
            case KvOpKind.Get:
                return op.Unknown || (op.Version == state.Version && op.Output == state.Value);
            case KvOpKind.Put:
                next = new State(state.Version + 1, op.Input);
                return op.Unknown || op.Version == next.Version;
            case KvOpKind.Delete:
                next = new State(state.Version + 1, null);
                return op.Unknown || (op.Version == next.Version && op.Ok == (state.Value is not null));
            case KvOpKind.Cas:
                if (state.Version == op.Expected)
                {
                    next = new State(state.Version + 1, op.Input);
                    return op.Unknown || (op.Ok && op.Version == next.Version);
                }
                return op.Unknown || (!op.Ok && op.Version == state.Version);
            default:
                return false;
        }
    }
}
