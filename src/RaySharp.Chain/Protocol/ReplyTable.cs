using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace RaySharp.Chain.Protocol;

/// <summary>
/// The requests of one connection that await their replies, by request id. Each waiter is a pooled
/// <see cref="IValueTaskSource{TResult}"/> rather than a TaskCompletionSource with a timer of its own: one
/// sweep every <see cref="SweepPeriod"/> fails the requests past their deadline, so a request costs no timer
/// and no allocation once the pool is warm (docs/chain.md "Where a read's time goes"). A waiter is completed
/// exactly once, by whichever of the reply, the sweep, its cancellation token or the connection's close
/// removes it from the table first.
/// </summary>
internal sealed class ReplyTable
{
    /// <summary>How often deadlines are checked: a request fails between its timeout and this much later.</summary>
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromMilliseconds(5);

    private const int MaxPooled = 1024;

    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Waiter> _pending = [];
    private readonly Stack<Waiter> _free = new();
    private readonly Timer _sweep;
    private bool _armed;
    private bool _closed;

    public ReplyTable() => _sweep = new Timer(static state => ((ReplyTable)state!).Sweep(), this, Timeout.Infinite, Timeout.Infinite);

    /// <summary>Registers request <paramref name="requestId"/>; throws <see cref="ConnectionClosedException"/> once the table is closed.</summary>
    public Waiter Add(ulong requestId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        Waiter waiter;
        lock (_gate)
        {
            if (_closed)
                throw new ConnectionClosedException("The connection closed before the request was sent.", sent: false);
            waiter = _free.Count > 0 ? _free.Pop() : new Waiter(this);
            waiter.Arm(requestId, deadline, timeout);
            _pending.Add(requestId, waiter);
            if (!_armed)
            {
                _armed = true;
                _sweep.Change(SweepPeriod, Timeout.InfiniteTimeSpan);
            }
        }
        if (cancellationToken.CanBeCanceled)
            waiter.Watch(cancellationToken);
        return waiter;
    }

    /// <summary>Completes the waiter of <paramref name="requestId"/> with <paramref name="reply"/>; false when none waits (a late reply).</summary>
    public bool TryComplete(ulong requestId, Frame reply)
    {
        Waiter? waiter;
        lock (_gate)
        {
            if (!_pending.Remove(requestId, out waiter))
                return false;
        }
        waiter.Complete(reply);
        return true;
    }

    /// <summary>Fails the waiter of <paramref name="requestId"/> if it is still waiting.</summary>
    public void TryFail(ulong requestId, Waiter expected, Exception error)
    {
        lock (_gate)
        {
            if (!_pending.TryGetValue(requestId, out var waiter) || waiter != expected)
                return;
            _pending.Remove(requestId);
        }
        expected.Fail(error);
    }

    /// <summary>Closes the table: every waiting request fails with <paramref name="error"/>, later ones cannot be added.</summary>
    public void Close(Func<Exception> error)
    {
        Waiter[] waiting;
        lock (_gate)
        {
            if (_closed)
                return;
            _closed = true;
            waiting = [.. _pending.Values];
            _pending.Clear();
            _free.Clear();
        }
        _sweep.Dispose();
        foreach (var waiter in waiting)
            waiter.Fail(error());
    }

    private void Sweep()
    {
        var now = Stopwatch.GetTimestamp();
        List<Waiter>? expired = null;
        lock (_gate)
        {
            if (_closed)
                return;
            foreach (var waiter in _pending.Values)
            {
                if (waiter.Deadline <= now)
                    (expired ??= []).Add(waiter);
            }
            foreach (var waiter in expired ?? [])
                _pending.Remove(waiter.RequestId);
            // Stay armed while requests wait; the next Add re-arms an idle table.
            _armed = _pending.Count > 0;
            if (_armed)
                _sweep.Change(SweepPeriod, Timeout.InfiniteTimeSpan);
        }
        foreach (var waiter in expired ?? [])
            waiter.Fail(new TimeoutException($"No reply to request {waiter.RequestId} within {waiter.Timeout.TotalMilliseconds:0} ms."));
    }

    private void Return(Waiter waiter)
    {
        lock (_gate)
        {
            if (!_closed && _free.Count < MaxPooled)
                _free.Push(waiter);
        }
    }

    /// <summary>One awaited reply; reused for another request once its result has been read.</summary>
    internal sealed class Waiter(ReplyTable table) : IValueTaskSource<Frame>
    {
        private ManualResetValueTaskSourceCore<Frame> _core = new() { RunContinuationsAsynchronously = true };
        private CancellationTokenRegistration _cancellation;

        public ulong RequestId { get; private set; }

        public long Deadline { get; private set; }

        public TimeSpan Timeout { get; private set; }

        public ValueTask<Frame> Task => new(this, _core.Version);

        public void Arm(ulong requestId, long deadline, TimeSpan timeout)
        {
            RequestId = requestId;
            Deadline = deadline;
            Timeout = timeout;
        }

        public void Watch(CancellationToken cancellationToken) =>
            _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var waiter = (Waiter)state!;
                waiter.Table.TryFail(waiter.RequestId, waiter, new OperationCanceledException("The request was cancelled while awaiting its reply.", token));
            }, this);

        private ReplyTable Table => table;

        public void Complete(Frame reply) => _core.SetResult(reply);

        public void Fail(Exception error) => _core.SetException(error);

        public Frame GetResult(short token)
        {
            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                _cancellation.Dispose();
                _cancellation = default;
                _core.Reset();
                table.Return(this);
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
