using RaySharp.Protocol;

namespace RaySharp.Runtime.Node;

// The node's objects: puts, gets and waits (a task blocked here lends its CPU out), and owner-side
// reference counting.
internal sealed partial class Head
{
    // ---- objects ----------------------------------------------------------------------------

    public void Put(ObjectId id, byte[]? data, ObjectRef[]? contained)
    {
        Put(id, data, ContainedRefs.Ids(contained), holder: null);
        GC.KeepAlive(contained); // the refs inside stay reachable until the node counts them
    }

    /// <summary>Records a put; <paramref name="holder"/> is the process it comes from when that is not this one.</summary>
    internal void Put(ObjectId id, byte[]? data, ObjectId[]? contained, RefHolder? holder)
    {
        lock (_lock)
        {
            ThrowIfShutDown();
            var entry = Pending(id);
            CountNewHandle(id, entry, holder); // the ref handed back to the caller
            if (contained is not null)
                SetContains(id, contained);
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

    // ---- reference counting -----------------------------------------------------------------
    //
    // The node counts every handle: LocalRefs for ObjectRef instances in its own process, RemoteRefs for
    // other processes that reported holding one (RefHolder; Release frames), ArgUses for unfinished tasks
    // that take the object as an argument or carry a ref to it inside an argument value, and ContainedIn
    // for live objects whose value holds a ref to it. An object is freed when all are zero. A process
    // that reads a ref out of a value reports it before it sends anything else, so the pin of the value
    // it read (an argument, or an object it holds) always outlasts the gap.

    /// <summary>A handle to <paramref name="id"/> was created in this process (unless <paramref name="counted"/>: the node made it with the object).</summary>
    public void AddRef(ObjectId id, bool counted)
    {
        if (counted)
            return;
        lock (_lock)
        {
            if (_objects.TryGetValue(id, out var e))
                e.LocalRefs++;
        }
    }

    /// <summary>A handle to <paramref name="id"/> in this process was disposed or finalised.</summary>
    public void DropRef(ObjectId id)
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

    /// <summary>Counts the handle a new task result or put hands to its creator.</summary>
    private static void CountNewHandle(ObjectId id, ObjectEntry entry, RefHolder? holder)
    {
        if (holder is null)
        {
            entry.LocalRefs++;
            return;
        }
        ref var held = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(holder.Held, id, out _);
        if (held++ == 0)
            entry.RemoteRefs++;
    }

    /// <summary>Another process reported handles it now holds (<see cref="Release.Added"/>) and handles it dropped (<see cref="Release.Ids"/>).</summary>
    internal void Release(Release message, RefHolder holder)
    {
        lock (_lock)
        {
            if (_shutDown)
                return;
            foreach (var id in message.Added ?? [])
            {
                if (_objects.TryGetValue(id, out var e))
                    CountNewHandle(id, e, holder);
            }
            foreach (var id in message.Ids)
                DropHeld(holder, id);
        }
    }

    private void DropHeld(RefHolder holder, ObjectId id)
    {
        if (!holder.Held.TryGetValue(id, out var held))
            return;
        if (held > 1)
        {
            holder.Held[id] = held - 1;
            return;
        }
        holder.Held.Remove(id);
        if (_objects.TryGetValue(id, out var e))
        {
            e.RemoteRefs--;
            FreeIfUnreachable(id, e);
        }
    }

    /// <summary>A process's connection closed: every handle it held is gone.</summary>
    internal void DropHolder(RefHolder holder)
    {
        lock (_lock)
        {
            if (_shutDown)
                return;
            foreach (var id in holder.Held.Keys.ToList())
            {
                holder.Held[id] = 1;
                DropHeld(holder, id);
            }
        }
    }

    /// <summary>Records the refs inside object <paramref name="id"/>'s value: they live while it does.</summary>
    private void SetContains(ObjectId id, ObjectId[] contained)
    {
        if (!_objects.TryGetValue(id, out var entry) || entry.Ready || entry.Contains is not null)
            return; // a late duplicate result: its refs are not counted twice
        var known = new List<ObjectId>(contained.Length);
        foreach (var inner in contained)
        {
            if (_objects.TryGetValue(inner, out var e))
            {
                e.ContainedIn++;
                known.Add(inner);
            }
        }
        entry.Contains = [.. known];
    }

    /// <summary>Pins the refs serialised inside a task's argument values until it finishes (an actor's constructor arguments: until the actor is dead).</summary>
    private void PinContained(TaskSpec spec)
    {
        foreach (var arg in spec.Args)
        {
            foreach (var id in arg.Contained ?? [])
            {
                if (_objects.TryGetValue(id, out var e))
                    e.ArgUses++;
            }
        }
    }

    private void UnpinContained(TaskSpec spec)
    {
        foreach (var arg in spec.Args)
        {
            foreach (var id in arg.Contained ?? [])
            {
                if (_objects.TryGetValue(id, out var e))
                {
                    e.ArgUses--;
                    FreeIfUnreachable(id, e);
                }
            }
        }
    }

    private void ReleaseArguments(TaskEntry task)
    {
        if (task.Spec.Kind != TaskKind.ActorCreation)
            UnpinContained(task.Spec); // a restarted actor's constructor reads them again: released in MarkDead
        if (!task.RefArgsPinned)
            return; // failed before its ref arguments were counted (unknown ref, infeasible demand)
        task.RefArgsPinned = false;
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

    /// <summary>Frees an object nothing can reach any more, and then the objects only it referred to.</summary>
    private void FreeIfUnreachable(ObjectId id, ObjectEntry e)
    {
        if (e.LocalRefs > 0 || e.RemoteRefs > 0 || e.ArgUses > 0 || e.ContainedIn > 0 || !e.Ready || e.Waiters is not null || e.Dependents is not null)
            return;
        _objects.Remove(id);
        if (e.InStore)
            ObjectStore.Delete(id);
        foreach (var inner in e.Contains ?? [])
        {
            if (_objects.TryGetValue(inner, out var c))
            {
                c.ContainedIn--;
                FreeIfUnreachable(inner, c);
            }
        }
    }
}
