using Microsoft.Extensions.Logging;

namespace RaySharp;

/// <summary>How <see cref="Ray.InitAsync"/> connects or what cluster it starts.</summary>
public sealed class RayOptions
{
    /// <summary>
    /// The node to join: its control service, e.g. <c>unix:/tmp/raysharp-&lt;uid&gt;/session-…/control.sock</c> or
    /// <c>127.0.0.1:6379</c> (printed by <c>raysharp start --head</c>, or <see cref="Ray.Address"/> of another
    /// driver). The driver must run on the node's machine. Null: use the
    /// <c>RAYSHARP_ADDRESS</c> environment variable, or start an embedded single-node cluster owned by
    /// this process when that is unset too. When attaching, the options that describe a node
    /// (<see cref="NumCpus"/>, <see cref="MemoryBytes"/>, <see cref="Resources"/>, <see cref="ObjectStoreBytes"/>,
    /// <see cref="PreallocateObjectStore"/>, <see cref="WorkerStartTimeout"/>, <see cref="ControlPort"/>,
    /// <see cref="ControlHost"/>) cannot apply — the node was started with its own — and setting any of them
    /// logs a warning naming them (to <see cref="LoggerFactory"/>, or to standard error without one).
    /// </summary>
    public string? Address { get; init; }

    /// <summary>
    /// Run everything in this process (tasks and actors on in-process workers; values still serialised
    /// exactly as across processes) — for debugging and unit tests. Default false.
    /// </summary>
    public bool LocalMode { get; init; }

    /// <summary>CPUs of the embedded node, also the number of pre-started task workers. Default: <see cref="Environment.ProcessorCount"/>.</summary>
    public int? NumCpus { get; init; }

    /// <summary>Memory the embedded node offers to tasks and actors that ask for it, in bytes. Default: 8 GiB.</summary>
    public long MemoryBytes { get; init; } = 8L << 30;

    /// <summary>Custom resources of the embedded node, e.g. <c>{ ["GPU"] = 1 }</c>. Default: none.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>
    /// Capacity of the embedded node's shared-memory object store (values over 100 KiB live there), in
    /// bytes. Beyond it, unused objects spill to disk (up to 4× this) and are restored on access. Default 1 GiB.
    /// </summary>
    public long ObjectStoreBytes { get; init; } = 1L << 30;

    /// <summary>
    /// Commit the whole object store when the node starts (Ray's <c>preallocate_plasma_memory</c>): a first
    /// write into fresh shared memory costs a page fault and zeroing per page, so large puts into a fresh
    /// store run at a fraction of memcpy; preallocating pays that at start-up (about 0.6 s per GiB here)
    /// and commits <see cref="ObjectStoreBytes"/> of memory at once. Default false.
    /// </summary>
    public bool PreallocateObjectStore { get; init; }

    /// <summary>How long starting a worker process may take before it counts as failed. Default 30 s.</summary>
    public TimeSpan WorkerStartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// TCP port of the node's gRPC control service (status, listings, timeline, named actors, shutdown),
    /// which always listens on a Unix socket in the node's session folder too. 0 picks a free port.
    /// Default null: Unix socket only. Applies to the node this options object starts (embedded or <see cref="RayNode"/>).
    /// </summary>
    public int? ControlPort { get; init; }

    /// <summary>
    /// The IP address the TCP control service binds when <see cref="ControlPort"/> is set: <c>0.0.0.0</c> for
    /// every interface. Default null: loopback (127.0.0.1) only.
    /// </summary>
    public string? ControlHost { get; init; }

    /// <summary>Where the runtime logs; default none.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>The node options set to something other than their defaults: they apply only to a node this process starts.</summary>
    internal IReadOnlyList<string> NodeOptionsSet()
    {
        var defaults = new RayOptions();
        var set = new List<string>();
        if (NumCpus is not null) set.Add(nameof(NumCpus));
        if (MemoryBytes != defaults.MemoryBytes) set.Add(nameof(MemoryBytes));
        if (Resources is not null) set.Add(nameof(Resources));
        if (ObjectStoreBytes != defaults.ObjectStoreBytes) set.Add(nameof(ObjectStoreBytes));
        if (PreallocateObjectStore) set.Add(nameof(PreallocateObjectStore));
        if (WorkerStartTimeout != defaults.WorkerStartTimeout) set.Add(nameof(WorkerStartTimeout));
        if (ControlPort is not null) set.Add(nameof(ControlPort));
        if (ControlHost is not null) set.Add(nameof(ControlHost));
        return set;
    }

    internal void Validate()
    {
        if (NumCpus is < 1 or > 1024)
            throw new ArgumentOutOfRangeException(nameof(NumCpus), NumCpus, "NumCpus must be between 1 and 1024.");
        if (ObjectStoreBytes < 1 << 20)
            throw new ArgumentOutOfRangeException(nameof(ObjectStoreBytes), ObjectStoreBytes, "ObjectStoreBytes must be at least 1 MiB.");
        if (MemoryBytes < 0)
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), MemoryBytes, "MemoryBytes cannot be negative.");
        if (Resources is not null && Resources.Any(r => r.Value < 0 || string.IsNullOrWhiteSpace(r.Key)))
            throw new ArgumentException("Custom resources need a name and a non-negative amount.", nameof(Resources));
        if (ControlPort is < 0 or > 65535)
            throw new ArgumentOutOfRangeException(nameof(ControlPort), ControlPort, "ControlPort must be between 0 (any free port) and 65535.");
        if (ControlHost is not null && ControlPort is null)
            throw new ArgumentException("ControlHost only applies with a ControlPort (the TCP control service is off without one).", nameof(ControlHost));
        if (ControlHost is not null && ControlHost != "localhost" && !System.Net.IPAddress.TryParse(ControlHost, out _))
            throw new ArgumentException($"ControlHost '{ControlHost}' is not an IP address; use 127.0.0.1, 0.0.0.0 (all interfaces) or one of this machine's addresses.", nameof(ControlHost));
        if (LocalMode && Address is not null)
            throw new ArgumentException("LocalMode runs everything in this process; it cannot be combined with an Address.", nameof(Address));
    }
}

/// <summary>Per-call options of a remote function. Defaults: 1 CPU, no memory, no custom resources, 3 retries.</summary>
public sealed record TaskOptions
{
    /// <summary>CPUs held while the task runs (0 allowed). Default 1.</summary>
    public double NumCpus { get; init; } = 1;

    /// <summary>Memory held while the task runs, in bytes. Default 0.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Custom resources held while the task runs. Default none.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    /// <summary>How often the task is re-run if its worker process dies. Default 3.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The name shown in errors, listings and the timeline. Default: Type.Method.</summary>
    public string? Name { get; init; }

    internal void Validate()
    {
        if (NumCpus < 0 || MemoryBytes < 0 || MaxRetries < 0 || (Resources?.Any(r => r.Value < 0) ?? false))
            throw new ArgumentOutOfRangeException(nameof(TaskOptions), "Task resources and MaxRetries cannot be negative.");
    }
}

/// <summary>
/// Options of an actor. Defaults: no name, no restarts, one call at a time, no resources held, and a
/// <see cref="ActorLifetime.JobScoped"/> lifetime (it ends with the driver that created it).
/// </summary>
public sealed record ActorOptions
{
    /// <summary>
    /// How long the actor lives. Default <see cref="ActorLifetime.JobScoped"/>: it is killed when the driver
    /// that created it disconnects. <see cref="ActorLifetime.Detached"/>: it lives until killed or its node stops.
    /// </summary>
    public ActorLifetime Lifetime { get; init; }

    /// <summary>A name other drivers and tasks can find the actor by (<see cref="Ray.GetActorAsync{T}"/>). Default none.</summary>
    public string? Name { get; init; }

    /// <summary>How often the actor is restarted (constructor re-run) when its process dies. Default 0.</summary>
    public int MaxRestarts { get; init; }

    /// <summary>
    /// How many calls may run at once. Default 1: calls run one after another in submission order.
    /// Above 1 (for async actors), calls start in order and interleave at their awaits.
    /// </summary>
    public int MaxConcurrency { get; init; } = 1;

    /// <summary>CPUs held for the actor's lifetime. Default 0.</summary>
    public double NumCpus { get; init; }

    /// <summary>Memory held for the actor's lifetime, in bytes. Default 0.</summary>
    public long MemoryBytes { get; init; }

    /// <summary>Custom resources held for the actor's lifetime. Default none.</summary>
    public IReadOnlyDictionary<string, double>? Resources { get; init; }

    internal void Validate()
    {
        if (MaxRestarts < 0 || NumCpus < 0 || MemoryBytes < 0 || (Resources?.Any(r => r.Value < 0) ?? false))
            throw new ArgumentOutOfRangeException(nameof(ActorOptions), "Actor resources and MaxRestarts cannot be negative.");
        if (MaxConcurrency < 1)
            throw new ArgumentOutOfRangeException(nameof(ActorOptions), MaxConcurrency, "MaxConcurrency must be at least 1.");
        if (Name is { Length: 0 })
            throw new ArgumentException("An actor name cannot be empty.", nameof(ActorOptions));
        if (!Enum.IsDefined(Lifetime))
            throw new ArgumentOutOfRangeException(nameof(ActorOptions), Lifetime, "Lifetime must be ActorLifetime.JobScoped or ActorLifetime.Detached.");
    }
}
