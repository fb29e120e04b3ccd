using RaySharp.Protocol;

namespace RaySharp.Runtime.Node;

// The node's objects: puts, gets and waits (a task blocked here lends its CPU out), and owner-side
// reference counting.
internal sealed partial class Head
{
    // ---- objects ----------------------------------------------------------------------------

    public void Put(ObjectId id, byte[]? data) => Put(id, data, ownedHere: true);

    internal void Put(ObjectId id, byte[]? data, bool ownedHere)
    {
        lock (_lock)
        {
            ThrowIfShutDown();
            var entry = Pending(id);
            entry.OwnedHere = ownedHere;
            entry.LocalRefs = ownedHere ? 1 : 0; // the ref handed back to the caller
            Complete(id, data, null, inStore: data is null);
            Dispatch();
        }
    }

    public async ValueTask<ObjectValue[]> GetAsync(ObjectId[] ids, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waiter = Register(ids, ids.Length);
        if (waiter is not null)
            await AwaitBlockingAsync(waiter, timeout, ids, cancellationToken).ConfigureAwait(false);
        var values = new ObjectValue[ids.Length];
        lock (_lock)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                values[i] = _objects.TryGetValue(ids[i], out var e)
                    ? new ObjectValue { Data = e.Data, Error = e.Error, InStore = e.InStore }
                    : new ObjectValue { Error = UnknownObject(ids[i], "") };
            }
        }
        return values;
    }

    public async ValueTask<bool[]> WaitAsync(ObjectId[] ids, int numReturns, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var waiter = Register(ids, numReturns);
        if (waiter is not null)
        {
            try
            {
                await AwaitBlockingAsync(waiter, timeout, ids, cancellationToken).ConfigureAwait(false);
            }
            catch (GetTimeoutException)
            {
                // Wait returns whatever is ready at the timeout.
            }
        }
        var ready = new bool[ids.Length];
        lock (_lock)
        {
            for (var i = 0; i < ids.Length; i++)
                ready[i] = !_objects.TryGetValue(ids[i], out var e) || e.Ready;
        }
        return ready;
    }

    /// <summary>Registers a waiter needing <paramref name="needed"/> ready objects, or null if already satisfied.</summary>
    private ObjectWaiter? Register(ObjectId[] ids, int needed, bool blocking = false)
    {
        lock (_lock)
        {
            ThrowIfShutDown();
            var missing = 0;
            foreach (var id in ids)
            {
                if (_objects.TryGetValue(id, out var e) && !e.Ready)
                    missing++;
            }
            var short_ = needed - (ids.Length - missing);
            if (short_ <= 0)
                return null;
            var waiter = new ObjectWaiter(short_, blocking);
            foreach (var id in ids)
            {
                if (_objects.TryGetValue(id, out var e) && !e.Ready)
                    (e.Waiters ??= []).Add(waiter);
            }
            return waiter;
        }
    }

    /// <summary>Waits; a task blocked here lends its worker's CPU out until the wait ends.</summary>
    private async Task AwaitBlockingAsync(ObjectWaiter waiter, TimeSpan timeout, ObjectId[] ids, CancellationToken cancellationToken, WorkerHandle? remoteWorker = null)
    {
        var worker = remoteWorker;
        if (worker is null && TaskContext.Current is { HoldsCpu: true } context)
        {
            context.ReleaseCpu();
            lock (_lock)
                worker = _tasks.TryGetValue(context.Id, out var t) ? t.Worker : null;
        }
        if (worker is not null)
            LendCpu(worker);
        try
        {
            await waiter.Done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw TimedOut(ids, timeout);
        }
        finally
        {
            if (worker is not null)
                ReclaimCpu(worker);
        }
        lock (_lock)
            ThrowIfShutDown();
    }

    private static GetTimeoutException TimedOut(ObjectId[] ids, TimeSpan timeout) => new(
        $"Timed out after {timeout.TotalSeconds:0.###} s waiting for {(ids.Length == 1 ? ids[0].ToString() : ids.Length + " objects")}; " +
        "the producing tasks are still queued or running. Wait longer, or check `raysharp status` for a stuck worker.");

    /// <summary>
    /// A blocking get for a driver thread of this process (not a task): the thread is woken directly by the
    /// completing result, without a hop through the thread pool.
    /// </summary>
    internal ObjectValue[] GetBlocking(ObjectId[] ids, TimeSpan timeout)
    {
        var waiter = Register(ids, ids.Length, blocking: true);
        if (waiter is not null)
        {
            // Not disposed: a result arriving after a timeout still sets it (it holds no kernel handle).
            if (!waiter.Event!.Wait(timeout))
                throw TimedOut(ids, timeout);
        }
        var values = new ObjectValue[ids.Length];
        lock (_lock)
        {
            ThrowIfShutDown();
            for (var i = 0; i < ids.Length; i++)
            {
                values[i] = _objects.TryGetValue(ids[i], out var e)
                    ? new ObjectValue { Data = e.Data, Error = e.Error, InStore = e.InStore }
                    : new ObjectValue { Error = UnknownObject(ids[i], "") };
            }
        }
        return values;
    }

    internal Task AwaitForRemoteAsync(ObjectId[] ids, int needed, WorkerHandle? blockedWorker)
    {
        var waiter = Register(ids, needed);
        return waiter is null ? Task.CompletedTask : AwaitBlockingAsync(waiter, Timeout.InfiniteTimeSpan, ids, CancellationToken.None, blockedWorker);
    }

    private void LendCpu(WorkerHandle worker)
    {
        lock (_lock)
        {
            if (++worker.Blocked == 1 && worker.Lease is not null && !worker.LeaseLent)
            {
                _scheduler.Release(worker.Lease);
                worker.LeaseLent = true;
                Dispatch();
            }
        }
    }

    private void ReclaimCpu(WorkerHandle worker)
    {
        lock (_lock)
        {
            if (worker.Blocked > 0 && --worker.Blocked == 0 && worker.LeaseLent && worker.Lease is not null)
            {
                _scheduler.Available.Subtract(worker.Lease);
                worker.LeaseLent = false;
            }
        }
    }

    // ---- reference counting (owner side) ----------------------------------------------------

    /// <summary>A ref to <paramref name="id"/> was created in this process.</summary>
    internal void AddLocalRef(ObjectId id)
    {
        lock (_lock)
        {
            if (_objects.TryGetValue(id, out var e))
                e.LocalRefs++;
        }
    }

    /// <summary>A ref to <paramref name="id"/> in this process was collected.</summary>
    internal void DropLocalRef(ObjectId id)
    {
        lock (_lock)
        {
            if (!_shutDown && _objects.TryGetValue(id, out var e))
            {
                e.LocalRefs--;
                FreeIfUnreachable(id, e);
            }
        }
    }

    /// <summary>A ref to <paramref name="id"/> was serialised: another value or process may hold it now.</summary>
    internal void MarkEscaped(ObjectId id)
    {
        lock (_lock)
        {
            if (_objects.TryGetValue(id, out var e))
                e.Escaped = true;
        }
    }

    private void ReleaseArguments(TaskEntry task)
    {
        foreach (var arg in task.Spec.Args)
        {
            if (arg.Refs is null)
                continue;
            foreach (var id in arg.Refs)
            {
                if (_objects.TryGetValue(id, out var e))
                {
                    e.ArgUses--;
                    FreeIfUnreachable(id, e);
                }
            }
        }
    }

    /// <summary>Frees an object nothing can reach any more: no live ref here, no pending task, never serialised.</summary>
    private void FreeIfUnreachable(ObjectId id, ObjectEntry e)
    {
        if (!e.OwnedHere || e.LocalRefs > 0 || e.ArgUses > 0 || e.Escaped || !e.Ready || e.Waiters is not null || e.Dependents is not null)
            return;
        _objects.Remove(id);
        if (e.InStore)
            ObjectStore.Delete(id);
    }

    public void Release(ObjectId[] ids)
    {
        lock (_lock)
        {
            foreach (var id in ids)
            {
                if (_objects.TryGetValue(id, out var e))
                    FreeIfUnreachable(id, e);
            }
        }
    }
}
