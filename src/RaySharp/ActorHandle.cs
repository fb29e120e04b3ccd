using System.Linq.Expressions;
using RaySharp.Protocol;
using RaySharp.Runtime;

namespace RaySharp;

/// <summary>
/// A handle to an actor: an instance of <typeparamref name="T"/> living in its own worker process.
/// Calls made through one handle run in the order they were made (one at a time unless the actor was
/// created with MaxConcurrency &gt; 1). Handles can be passed to tasks and other actors.
/// </summary>
/// <typeparam name="T">The actor's class.</typeparam>
public sealed class ActorHandle<T>
    where T : class
{
    internal ActorHandle(ActorId id, Ray ray)
    {
        Id = id;
        Ray = ray;
    }

    /// <summary>The actor's id.</summary>
    public ActorId Id { get; }

    internal Ray Ray { get; }

    /// <summary>Calls a method on the actor: <c>handle.Call(c =&gt; c.Add(5))</c>. Arguments are evaluated here.</summary>
    /// <typeparam name="TR">The method's result type.</typeparam>
    public ObjectRef<TR> Call<TR>(Expression<Func<T, TR>> call) => new(Submit(call), Ray, counted: true);

    /// <summary>Calls a Task-returning method on the actor; the ref holds the awaited result.</summary>
    /// <typeparam name="TR">The awaited result type.</typeparam>
    public ObjectRef<TR> Call<TR>(Expression<Func<T, Task<TR>>> call) => new(Submit(call), Ray, counted: true);

    /// <summary>Calls a void method on the actor; await the ref to know it ran.</summary>
    public ObjectRef Call(Expression<Action<T>> call) => new(Submit(call), Ray, counted: true);

    /// <summary>Calls a Task-returning method without a result; await the ref to know it ran.</summary>
    public ObjectRef Call(Expression<Func<T, Task>> call) => new(Submit(call), Ray, counted: true);

    private ObjectId Submit(LambdaExpression call)
    {
        var (function, args) = Functions.DescribeCall(call);
        var spec = new TaskSpec
        {
            Kind = TaskKind.ActorCall,
            Id = new TaskId(Ray.JobId, UniqueIds.Next()),
            Function = function,
            Args = args,
            Actor = Id,
        };
        Ray.Client.Submit(spec);
        return ObjectId.ForReturn(spec.Id);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Id} ({typeof(T).Name})";
}

/// <summary>A prepared actor creation (from <c>ray.Actor(() =&gt; new Counter(10))</c>): set options, then <see cref="Remote"/>.</summary>
/// <typeparam name="T">The actor's class.</typeparam>
public sealed class ActorBuilder<T>
    where T : class
{
    private readonly Ray _ray;
    private readonly Expression<Func<T>> _create;
    private ActorOptions _options = new();

    internal ActorBuilder(Ray ray, Expression<Func<T>> create)
    {
        _ray = ray;
        _create = create;
    }

    /// <summary>Applies <paramref name="options"/> (name, restarts, concurrency, resources, lifetime).</summary>
    public ActorBuilder<T> WithOptions(ActorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        return this;
    }

    /// <summary>Names the actor so others can find it with <see cref="Ray.GetActorAsync{T}"/>.</summary>
    public ActorBuilder<T> WithName(string name) => WithOptions(_options with { Name = name });

    /// <summary>Lets the actor be restarted (constructor re-run) up to <paramref name="maxRestarts"/> times when its process dies.</summary>
    public ActorBuilder<T> WithMaxRestarts(int maxRestarts) => WithOptions(_options with { MaxRestarts = maxRestarts });

    /// <summary>
    /// Sets how long the actor lives: <see cref="ActorLifetime.Detached"/> makes it outlive this driver (until it
    /// is killed or its node stops); the default, <see cref="ActorLifetime.JobScoped"/>, ends it with this driver.
    /// </summary>
    /// <example>
    /// <code>
    /// ray.Actor(() => new Registry()).WithName("registry").WithLifetime(ActorLifetime.Detached).Remote();
    /// // later, from another driver attached to the same node:
    /// var registry = await ray.GetActorAsync&lt;Registry&gt;("registry");
    /// </code>
    /// </example>
    public ActorBuilder<T> WithLifetime(ActorLifetime lifetime) => WithOptions(_options with { Lifetime = lifetime });

    /// <summary>Lets up to <paramref name="maxConcurrency"/> calls run at once (async actors).</summary>
    public ActorBuilder<T> WithMaxConcurrency(int maxConcurrency) => WithOptions(_options with { MaxConcurrency = maxConcurrency });

    /// <summary>Creates the actor; calls can be made on the handle at once (they run after the constructor).</summary>
    public ActorHandle<T> Remote()
    {
        var (function, args, type) = Functions.DescribeConstructor(_create);
        if (!typeof(T).IsAssignableFrom(type))
            throw new ArgumentException($"The constructor creates {type}, not {typeof(T)}.");
        var id = new ActorId(_ray.JobId, UniqueIds.Next());
        _ray.Client.Submit(new TaskSpec
        {
            Kind = TaskKind.ActorCreation,
            Id = new TaskId(_ray.JobId, UniqueIds.Next()),
            Function = function,
            Args = args,
            Actor = id,
            Name = _options.Name,
            ActorTypeName = typeof(T).FullName,
            MaxRestarts = _options.MaxRestarts,
            MaxConcurrency = _options.MaxConcurrency,
            Detached = _options.Lifetime == ActorLifetime.Detached,
            Resources = new ResourceDemand
            {
                Cpus = _options.NumCpus,
                MemoryBytes = _options.MemoryBytes,
                Custom = _options.Resources?.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            },
        });
        return new ActorHandle<T>(id, _ray);
    }
}
