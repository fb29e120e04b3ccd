namespace RaySharp;

/// <summary>
/// Base of every error the runtime reports about remote work. Catch this to handle any of them; the
/// sealed subclasses say which thing failed and how.
/// </summary>
public abstract class RayException : Exception
{
    private protected RayException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A remote function or actor method threw. Carries the remote exception's type, message and stack;
/// it is also what a task sees (and re-throws) when one of its arguments failed, so an error propagates
/// through every dependent task to whoever reads the final result.
/// </summary>
public sealed class RayTaskException : RayException
{
    internal RayTaskException(string taskName, string remoteType, string remoteMessage, string remoteStackTrace)
        : base($"Task '{taskName}' failed with {remoteType}: {remoteMessage}")
    {
        TaskName = taskName;
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>The name of the function or actor method that threw (or the task option's name).</summary>
    public string TaskName { get; }

    /// <summary>The full name of the exception type thrown remotely, e.g. <c>System.DivideByZeroException</c>.</summary>
    public string RemoteType { get; }

    /// <summary>The remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>The remote stack trace (of the process that ran the code).</summary>
    public string RemoteStackTrace { get; }

    /// <inheritdoc/>
    public override string StackTrace => RemoteStackTrace + Environment.NewLine + "--- end of remote stack trace ---" + Environment.NewLine + base.StackTrace;
}

/// <summary>
/// The actor is dead: its process died (and it has no restarts left, or the call was in flight when it
/// died), it was killed, or its constructor threw.
/// </summary>
public sealed class ActorDiedException : RayException
{
    internal ActorDiedException(string message) : base(message) { }
}

/// <summary>The worker process running a task died and the task had no retries left.</summary>
public sealed class WorkerCrashedException : RayException
{
    internal WorkerCrashedException(string message) : base(message) { }
}

/// <summary>An object's value is gone (freed or lost with the process that held it) and cannot be rebuilt.</summary>
public sealed class ObjectLostException : RayException
{
    internal ObjectLostException(string message) : base(message) { }
}

/// <summary>A <c>Get</c> or <c>Wait</c> gave up after its timeout; the object may still become ready.</summary>
public sealed class GetTimeoutException : RayException
{
    internal GetTimeoutException(string message) : base(message) { }
}

/// <summary>The task was cancelled with <see cref="Ray.Cancel"/> before it produced a value.</summary>
public sealed class TaskCancelledException : RayException
{
    internal TaskCancelledException(string message) : base(message) { }
}

/// <summary>
/// A task or an actor asks for resources (CPUs, memory, custom resources such as <c>GPU</c>) that no node of
/// the cluster has in total, so it can never be scheduled (Ray calls these unschedulable). Tasks and actors
/// get the same error: a task's ref throws it, and so do an actor's calls (the actor is never created and
/// is listed as dead with this reason). Lower the request (<see cref="TaskOptions"/>, <see cref="ActorOptions"/>)
/// or give the cluster more (<see cref="RayOptions.NumCpus"/>, <see cref="RayOptions.Resources"/>,
/// <c>raysharp start --num-cpus/--resources</c>).
/// </summary>
public sealed class UnschedulableException : RayException
{
    internal UnschedulableException(string message) : base(message) { }
}

/// <summary>
/// A value did not fit in the node's shared-memory object store: it is larger than the store's whole
/// capacity (<see cref="NeverFits"/>), or the objects that are pinned (being read or written) plus the
/// spill budget on disk leave no room for it now. Thrown by <see cref="Ray.Put{T}"/>, and by getting the
/// result of a task whose large result could not be stored. Free refs you no longer need, store less at
/// once, or start the node with a larger <see cref="RayOptions.ObjectStoreBytes"/>.
/// </summary>
public sealed class ObjectStoreFullException : RayException
{
    internal ObjectStoreFullException(string message, bool neverFits, Exception? inner = null) : base(message, inner) => NeverFits = neverFits;

    /// <summary>True when the value is larger than the store's capacity, so it can never be stored on this node.</summary>
    public bool NeverFits { get; }
}

/// <summary>
/// The cluster cannot run the request: no worker process can be started, the node's control service
/// cannot be reached, or the runtime was shut down.
/// </summary>
public sealed class RaySystemException : RayException
{
    internal RaySystemException(string message, Exception? inner = null) : base(message, inner) { }
}
