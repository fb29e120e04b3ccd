using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;

namespace RaySharp.Chain.Client;

/// <summary>
/// A lease: a time-to-live kept alive by its client. When it expires (its client stopped renewing it, e.g.
/// because it crashed) the keys put with it are deleted and the locks it holds or waits for are released.
/// Disposing revokes it.
/// </summary>
public sealed class ChainLease : IAsyncDisposable
{
    private readonly ChainClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;

    internal ChainLease(ChainClient client, long id, TimeSpan ttl)
    {
        _client = client;
        Id = id;
        Ttl = ttl;
        _keepAlive = Task.Run(KeepAliveLoopAsync);
    }

    /// <summary>The lease id (random, 64-bit).</summary>
    public long Id { get; }

    /// <summary>The time-to-live granted.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>True once a renewal found the lease gone: its keys and locks are released.</summary>
    public bool Expired { get; private set; }

    private async Task KeepAliveLoopAsync()
    {
        while (!_stop.IsCancellationRequested && !Expired)
        {
            try
            {
                await Task.Delay(Ttl / 3, _stop.Token).ConfigureAwait(false);
                await _client.KeepAliveAsync(this, 0, "", _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ChainLeaseExpiredException)
            {
                Expired = true;
            }
            catch (ChainException)
            {
                // a failover: the next renewal retries
            }
        }
    }

    /// <summary>Fault injection for tests: stop renewing without revoking, as a crashed client would.</summary>
    internal Task StopRenewingAsync()
    {
        _stop.Cancel();
        return _keepAlive;
    }

    /// <summary>Stops renewing and revokes the lease (its keys and locks are released).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_keepAlive.IsCompleted && _stop.IsCancellationRequested)
            return;
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        try
        {
            await _client.RevokeAsync(this).ConfigureAwait(false);
        }
        catch (ChainException)
        {
            // already expired, or unreachable: it expires on its own
        }
        _stop.Dispose();
    }
}

/// <summary>The lease is gone (expired or revoked): grant a new one.</summary>
public sealed class ChainLeaseExpiredException(string message) : ChainException(message);

/// <summary>A held lock. <see cref="FencingToken"/> grows with every new holder: pass it to the resource the lock
/// guards so it can refuse a stale holder.</summary>
public sealed class ChainLock : IAsyncDisposable
{
    private readonly ChainClient _client;
    private readonly ChainLease _lease;
    private int _released;

    internal ChainLock(ChainClient client, string name, ChainLease lease, long token)
    {
        _client = client;
        _lease = lease;
        Name = name;
        FencingToken = token;
    }

    /// <summary>The lock's key.</summary>
    public string Name { get; }

    /// <summary>The lock key's version when this holder reached the front of the queue.</summary>
    public long FencingToken { get; }

    /// <summary>Releases the lock; the next waiter (first come, first served) gets it.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
            await _client.ReleaseLockEntryAsync(Name, _lease.Id, CancellationToken.None).ConfigureAwait(false);
    }
}

public sealed partial class ChainClient
{
    /// <summary>Grants a lease with the given time-to-live (10 ms to 1 day), renewed in the background every TTL/3.</summary>
    public async Task<ChainLease> GrantLeaseAsync(TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        if (ttl < TimeSpan.FromMilliseconds(10) || ttl > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(ttl), ttl, "A lease TTL must be between 10 ms and 1 day.");
        var id = Random.Shared.NextInt64(1, long.MaxValue);
        var key = Coordination.LeaseKey(id);
        await SendAsync(key, write: true, r => new FrameBuilder(OpCode.LeaseGrant, r).I64(id).I32((int)ttl.TotalMilliseconds).Build(), cancellationToken).ConfigureAwait(false);
        return new ChainLease(this, id, ttl);
    }

    /// <summary>Writes a value that is deleted when <paramref name="lease"/> expires.</summary>
    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, ChainLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        CheckKey(key);
        await KeepAliveAsync(lease, (byte)'K', key, cancellationToken).ConfigureAwait(false);
        return await PutAsync(key, value, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Acquires the lock <paramref name="name"/> for <paramref name="lease"/>, waiting first come, first
    /// served. The lock is released by disposing the returned <see cref="ChainLock"/>, or when the lease expires.
    /// </summary>
    public async Task<ChainLock> AcquireLockAsync(string name, ChainLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lease);
        CheckKey(name);
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = WatchAsync(name, prefix: false, watching.Token).GetAsyncEnumerator(watching.Token);
        await using var closing = watch.ConfigureAwait(false);
        if (!await watch.MoveNextAsync().ConfigureAwait(false)) // the initial state: the watch is in place
            throw new ChainUnavailableException($"The watch on lock '{name}' ended before it started.");
        var reply = await SendAsync(name, write: true, r => new FrameBuilder(OpCode.LockAcquire, r).Key(name).I64(lease.Id).Build(), cancellationToken).ConfigureAwait(false);
        var (version, front, _) = ReadOk(reply);
        if (BetweenLockStepsForTests is { } hook)
            await hook(lease).ConfigureAwait(false);
        // Queue entry first, then attach it to the lease: the lease's expiry either finds it attached and
        // releases it, or (already expiring) refuses the attachment and we take the entry out ourselves.
        // The other order let a lease expire between the steps and leave its entry in the queue forever.
        try
        {
            await KeepAliveAsync(lease, (byte)'L', name, cancellationToken).ConfigureAwait(false);
        }
        catch (ChainLeaseExpiredException)
        {
            await ReleaseLockEntryAsync(name, lease.Id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (front == 1)
            return new ChainLock(this, name, lease, version);
        while (await watch.MoveNextAsync().ConfigureAwait(false))
        {
            var queue = Coordination.ParseQueue(watch.Current.Value);
            if (watch.Current.Version > version && queue.Count > 0 && queue[0] == lease.Id)
                return new ChainLock(this, name, lease, watch.Current.Version);
            if (!queue.Contains(lease.Id) && watch.Current.Version > version)
                throw new ChainLeaseExpiredException($"Lease {lease.Id:x16} left the queue of lock '{name}' (it expired); grant a new lease.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        throw new ChainUnavailableException($"The watch on lock '{name}' ended.");
    }

    /// <summary>Test seam: runs between the two steps of <see cref="AcquireLockAsync"/> (to make a lease expire there).</summary>
    internal Func<ChainLease, Task>? BetweenLockStepsForTests { get; set; }

    internal async Task KeepAliveAsync(ChainLease lease, byte attachKind, string attachKey, CancellationToken cancellationToken)
    {
        await SendLeaseAsync(lease.Id, r => new FrameBuilder(OpCode.LeaseKeepAlive, r).I64(lease.Id).U8(attachKind).Key(attachKey).Build(), cancellationToken).ConfigureAwait(false);
    }

    internal Task RevokeAsync(ChainLease lease) =>
        SendLeaseAsync(lease.Id, r => new FrameBuilder(OpCode.LeaseRevoke, r).I64(lease.Id).Build(), CancellationToken.None);

    internal Task ReleaseLockEntryAsync(string name, long lease, CancellationToken cancellationToken) =>
        SendAsync(name, write: true, r => new FrameBuilder(OpCode.LockRelease, r).Key(name).I64(lease).Build(), cancellationToken).AsTask();

    private async Task<Frame> SendLeaseAsync(long id, Func<ulong, OutFrame> build, CancellationToken cancellationToken)
    {
        try
        {
            return await SendAsync(Coordination.LeaseKey(id), write: true, build, cancellationToken).ConfigureAwait(false);
        }
        catch (ChainRequestException e) when (e.Message.Contains("does not exist or has expired", StringComparison.Ordinal))
        {
            throw new ChainLeaseExpiredException(e.Message);
        }
    }
}
