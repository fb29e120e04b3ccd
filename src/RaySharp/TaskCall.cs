using RaySharp.Protocol;
using RaySharp.Runtime;

namespace RaySharp;

/// <summary>
/// A prepared call of a remote function (from <c>ray.Task(function, args…)</c>): set per-call options,
/// then <see cref="Remote"/> submits it and returns the ref of its result. Calling <see cref="Remote"/>
/// again submits the same call again.
/// </summary>
/// <typeparam name="TR">The function's result type (a Task-returning function's awaited type).</typeparam>
public sealed class TaskCall<TR>
{
    private static readonly ResourceDemand DefaultResources = new() { Cpus = 1 };
    private readonly Ray _ray;
    private readonly TaskSpec _spec;
    private bool _submitted;

    internal TaskCall(Ray ray, Delegate function, ArgSpec[] args)
    {
        _ray = ray;
        var f = Functions.Describe(function);
        _spec = new TaskSpec
        {
            Kind = TaskKind.Normal,
            Function = f,
            Args = args,
            Resources = DefaultResources,
            MaxRetries = 3,
        };
    }

    /// <summary>Applies <paramref name="options"/> (resources, retries, name) to this call.</summary>
    public TaskCall<TR> WithOptions(TaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _spec.Resources = new ResourceDemand
        {
            Cpus = options.NumCpus,
            MemoryBytes = options.MemoryBytes,
            Custom = options.Resources?.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
        };
        _spec.MaxRetries = options.MaxRetries;
        _spec.Name = options.Name;
        return this;
    }

    /// <summary>Submits the call; its arguments' refs are resolved on the cluster before it runs.</summary>
    public ObjectRef<TR> Remote()
    {
        var spec = _submitted ? Copy(_spec) : _spec;
        _submitted = true;
        spec.Id = new TaskId(_ray.JobId, UniqueIds.Next());
        _ray.Client.Submit(spec);
        GC.KeepAlive(spec); // its refs (in ArgSpec.ContainedRefs) stay reachable until the node has the spec
        return new ObjectRef<TR>(ObjectId.ForReturn(spec.Id), _ray, counted: true);
    }

    private static TaskSpec Copy(TaskSpec s) => new()
    {
        Kind = s.Kind,
        Function = s.Function,
        Args = s.Args,
        Resources = s.Resources,
        MaxRetries = s.MaxRetries,
        Name = s.Name,
    };
}

/// <summary>Encodes the arguments of the typed <c>Ray.Task</c> overloads.</summary>
internal static class TaskArgs
{
    public static ArgSpec Value<T>(T value, Delegate function, int index)
    {
        if (value is ObjectRef objectRef)
            RefuseUntypedRef(objectRef, function.Method.GetParameters()[index], function.Method.Name);
        byte[] bytes;
        ObjectRef[]? refs;
        using (var scope = ContainedRefs.Collect())
        {
            try
            {
                bytes = MessagePack.MessagePackSerializer.Serialize(value, RaySerializer.Values);
                refs = scope.Refs;
            }
            catch (Exception e) when (e is MessagePack.MessagePackSerializationException or InvalidOperationException or NotSupportedException)
            {
                bytes = RaySerializer.Serialize(value, $"Argument {index + 1} of {function.Method.Name}", out refs); // throws with the reason
            }
        }
        return new ArgSpec { Inline = bytes, Contained = ContainedRefs.Ids(refs), ContainedRefs = refs };
    }

    /// <summary>
    /// Refuses a ref passed as the whole argument to a parameter that is not an <see cref="ObjectRef"/>
    /// (<c>object</c>, an interface): it would arrive as the ref's id bytes, neither the value nor a ref.
    /// </summary>
    public static void RefuseUntypedRef(ObjectRef value, System.Reflection.ParameterInfo parameter, string method)
    {
        if (typeof(ObjectRef).IsAssignableFrom(parameter.ParameterType))
            return;
        var valueType = value.GetType().IsGenericType ? value.GetType().GetGenericArguments()[0] : typeof(object);
        throw new ArgumentException(
            $"Argument '{parameter.Name}' of {method} is an ObjectRef<{valueType.Name}> but the parameter is of type {parameter.ParameterType.Name}, " +
            $"so it would arrive as the ref's raw id bytes. Declare the parameter as {valueType.Name} (the ref is resolved to its value before the call runs), " +
            $"or as ObjectRef<{valueType.Name}> (the ref itself is passed), or pass the value (await the ref first).", parameter.Name);
    }

    public static ArgSpec Ref<T>(ObjectRef<T> value, int index)
    {
        ArgumentNullException.ThrowIfNull(value, $"arg{index + 1}");
        value.ThrowIfDisposed();
        return new ArgSpec { Refs = [value.Id] };
    }

    public static ArgSpec Ref<T>(MemoryRef<T> value, int index) => Ref(value.Array ?? throw new ArgumentNullException($"arg{index + 1}"), index);

    public static ArgSpec Gather<T>(ObjectRef<T>[] values, int index)
    {
        ArgumentNullException.ThrowIfNull(values, $"arg{index + 1}");
        var ids = new ObjectId[values.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var element = values[i] ?? throw new ArgumentException($"Element {i} of argument {index + 1} is null.", $"arg{index + 1}");
            element.ThrowIfDisposed();
            ids[i] = element.Id;
        }
        return new ArgSpec { Refs = ids, Gather = true };
    }
}
