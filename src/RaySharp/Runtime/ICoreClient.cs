using RaySharp.Protocol;

namespace RaySharp.Runtime;

/// <summary>
/// What a process's <see cref="Ray"/> needs from the node it belongs to. The head implements it in
/// process (embedded driver, local mode, in-process workers); <see cref="RemoteClient"/> implements it
/// over the node's Unix socket (worker processes, drivers that attach by address).
/// </summary>
internal interface ICoreClient : IAsyncDisposable
{
    /// <summary>The job this client submits under.</summary>
    JobId Job { get; }

    /// <summary>The node's address (<c>unix:/path</c>), or null in local mode.</summary>
    string? Address { get; }

    /// <summary>Submits a task, an actor creation or an actor call; the spec's id is already assigned.</summary>
    void Submit(TaskSpec spec);

    /// <summary>
    /// Records a put: <paramref name="data"/> inline, or null when the value was written to <see cref="Store"/>;
    /// <paramref name="contained"/> are the refs serialised inside the value (kept alive while it is).
    /// </summary>
    void Put(ObjectId id, byte[]? data, ObjectRef[]? contained);

    /// <summary>This process's client of the node's shared-memory object store.</summary>
    RaySharp.ObjectStore.ObjectStoreClient<ObjectId> Store { get; }

    /// <summary>Waits for every id; throws <see cref="GetTimeoutException"/> after <paramref name="timeout"/>.</summary>
    ValueTask<ObjectValue[]> GetAsync(ObjectId[] ids, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Returns which ids are ready once <paramref name="numReturns"/> are, or at the timeout.</summary>
    ValueTask<bool[]> WaitAsync(ObjectId[] ids, int numReturns, TimeSpan timeout, CancellationToken cancellationToken);

    ValueTask<(ActorId Actor, string TypeName)?> LookupActorAsync(string name, CancellationToken cancellationToken);

    void KillActor(ActorId actor, bool noRestart);

    void Cancel(ObjectId id, bool force);

    /// <summary>
    /// A handle to <paramref name="id"/> was created in this process. <paramref name="counted"/>: the node
    /// already counted it (the handle of a task or put this process just submitted).
    /// </summary>
    void AddRef(ObjectId id, bool counted);

    /// <summary>A handle to <paramref name="id"/> in this process was disposed or finalised.</summary>
    void DropRef(ObjectId id);

    /// <summary>The node's state: resources, object store, workers, counts (what the control service's GetClusterStatus answers).</summary>
    ValueTask<Control.ClusterStatus> StatusAsync(CancellationToken cancellationToken);

    /// <summary>The executed tasks and actor calls as Chrome trace JSON.</summary>
    ValueTask<string> TimelineAsync(CancellationToken cancellationToken);
}
