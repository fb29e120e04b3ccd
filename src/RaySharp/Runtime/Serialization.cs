using System.Buffers;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;

namespace RaySharp.Runtime;

/// <summary>
/// MessagePack settings for user values (contractless: ordinary classes and records need no
/// attributes) and for the runtime's own messages. Ids, <see cref="ObjectRef{T}"/> and
/// <see cref="ActorHandle{T}"/> have formatters here so refs and handles can travel inside values.
/// </summary>
internal static class RaySerializer
{
    public static readonly MessagePackSerializerOptions Values = MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create(RayFormatterResolver.Instance, ContractlessStandardResolverAllowPrivate.Instance))
        .WithSecurity(MessagePackSecurity.UntrustedData);

    public static readonly MessagePackSerializerOptions Wire = MessagePackSerializerOptions.Standard
        .WithResolver(CompositeResolver.Create(RayFormatterResolver.Instance, StandardResolverAllowPrivate.Instance));

    /// <summary>Encodes a value; <paramref name="refs"/> are the refs written inside it (null if none).</summary>
    public static byte[] Serialize<T>(T value, string what, out ObjectRef[]? refs)
    {
        using var scope = ContainedRefs.Collect();
        try
        {
            var bytes = MessagePackSerializer.Serialize(value, Values);
            refs = scope.Refs;
            return bytes;
        }
        catch (Exception e) when (e is MessagePackSerializationException or InvalidOperationException or NotSupportedException or TypeInitializationException)
        {
            throw Unserialisable(typeof(T), what, e);
        }
    }

    /// <summary>Encodes a value as <paramref name="type"/>; <paramref name="refs"/> are the refs written inside it (null if none).</summary>
    public static byte[] Serialize(Type type, object? value, string what, out ObjectRef[]? refs)
    {
        using var scope = ContainedRefs.Collect();
        try
        {
            var bytes = MessagePackSerializer.Serialize(type, value, Values);
            refs = scope.Refs;
            return bytes;
        }
        catch (Exception e) when (e is MessagePackSerializationException or InvalidOperationException or NotSupportedException or TypeInitializationException)
        {
            throw Unserialisable(type, what, e);
        }
    }

    public static T Deserialize<T>(ReadOnlyMemory<byte> data) => MessagePackSerializer.Deserialize<T>(data, Values);

    public static object? Deserialize(Type type, ReadOnlyMemory<byte> data) => MessagePackSerializer.Deserialize(type, data, Values);

    private static ArgumentException Unserialisable(Type type, string what, Exception e) => new(
        $"{what} of type {type} cannot be serialised with MessagePack: {Innermost(e).Message} " +
        "Pass plain data (primitives, arrays, collections, records or classes with public fields/properties), " +
        "or an ObjectRef<T> for data already in the cluster.", e);

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }

    /// <summary>Writes a MessagePack array header followed by already-encoded elements: the encoding of T[].</summary>
    public static byte[] ConcatArray(byte[][] elements)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(elements.Length);
        foreach (var e in elements)
            writer.WriteRaw(e);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// The refs written inside the value being serialised on this thread: whoever sends the value tells the
/// node which objects it contains (so they live as long as the value), and keeps the handles reachable
/// until the node has been told.
/// </summary>
internal static class ContainedRefs
{
    [ThreadStatic]
    private static List<ObjectRef>? _refs;

    [ThreadStatic]
    private static int _depth;

    /// <summary>Starts collecting; dispose the scope when the value is written.</summary>
    public static Scope Collect()
    {
        var scope = new Scope(_refs);
        _refs = null;
        _depth++;
        return scope;
    }

    public static void Add(ObjectRef objectRef)
    {
        if (_depth == 0)
            throw new InvalidOperationException($"The ref to {objectRef.Id} was serialised outside a value the runtime tracks; refs travel only inside task arguments, results and puts.");
        (_refs ??= []).Add(objectRef);
    }

    /// <summary>The distinct ids of <paramref name="refs"/>, or null.</summary>
    public static ObjectId[]? Ids(ObjectRef[]? refs)
    {
        if (refs is null)
            return null;
        var ids = new HashSet<ObjectId>();
        foreach (var r in refs)
            ids.Add(r.Id);
        return [.. ids];
    }

    public readonly ref struct Scope(List<ObjectRef>? outer)
    {
        /// <summary>The refs collected since <see cref="Collect"/>, or null.</summary>
        public ObjectRef[]? Refs => _refs is { Count: > 0 } refs ? [.. refs] : null;

        public void Dispose()
        {
            _refs = outer;
            _depth--;
        }
    }
}

internal sealed class RayFormatterResolver : IFormatterResolver
{
    public static readonly RayFormatterResolver Instance = new();

    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter = (IMessagePackFormatter<T>?)Create(typeof(T));
    }

    private static object? Create(Type t)
    {
        if (t == typeof(Protocol.Message)) return new Protocol.MessageFormatter();
        if (t == typeof(ObjectId)) return new ObjectIdFormatter();
        if (t == typeof(TaskId)) return new TaskIdFormatter();
        if (t == typeof(ActorId)) return new ActorIdFormatter();
        if (t == typeof(JobId)) return new JobIdFormatter();
        if (t == typeof(NodeId)) return new NodeIdFormatter();
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ObjectRef<>))
            return Activator.CreateInstance(typeof(ObjectRefFormatter<>).MakeGenericType(t.GetGenericArguments()));
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ActorHandle<>))
            return Activator.CreateInstance(typeof(ActorHandleFormatter<>).MakeGenericType(t.GetGenericArguments()));
        return null;
    }
}

internal sealed class ObjectIdFormatter : IMessagePackFormatter<ObjectId>
{
    public void Serialize(ref MessagePackWriter writer, ObjectId value, MessagePackSerializerOptions options)
    {
        writer.WriteBinHeader(ObjectId.Size);
        value.WriteTo(writer.GetSpan(ObjectId.Size));
        writer.Advance(ObjectId.Size);
    }

    public ObjectId Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var seq = reader.ReadBytes() ?? throw new MessagePackSerializationException("An object id was nil.");
        if (seq.Length != ObjectId.Size)
            throw new MessagePackSerializationException($"An object id must be {ObjectId.Size} bytes, not {seq.Length}.");
        Span<byte> bytes = stackalloc byte[ObjectId.Size];
        seq.CopyTo(bytes);
        return ObjectId.ReadFrom(bytes);
    }
}

internal sealed class TaskIdFormatter : IMessagePackFormatter<TaskId>
{
    public void Serialize(ref MessagePackWriter writer, TaskId value, MessagePackSerializerOptions options) =>
        JobScopedId.Write(ref writer, value.Job, value.Unique);

    public TaskId Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var (job, unique) = JobScopedId.Read(ref reader, "A task id");
        return new TaskId(job, unique);
    }
}

internal sealed class ActorIdFormatter : IMessagePackFormatter<ActorId>
{
    public void Serialize(ref MessagePackWriter writer, ActorId value, MessagePackSerializerOptions options) =>
        JobScopedId.Write(ref writer, value.Job, value.Unique);

    public ActorId Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        var (job, unique) = JobScopedId.Read(ref reader, "An actor id");
        return new ActorId(job, unique);
    }
}

/// <summary>The wire form shared by ids scoped to a job (task and actor ids): [job, unique].</summary>
internal static class JobScopedId
{
    public static void Write(ref MessagePackWriter writer, JobId job, ulong unique)
    {
        writer.WriteArrayHeader(2);
        writer.Write(job.Value);
        writer.Write(unique);
    }

    /// <summary>Reads [job, unique]; <paramref name="what"/> names the id in the error ("A task id").</summary>
    public static (JobId Job, ulong Unique) Read(ref MessagePackReader reader, string what)
    {
        if (reader.ReadArrayHeader() != 2)
            throw new MessagePackSerializationException($"{what} must be a 2-element array.");
        return (new JobId(reader.ReadUInt32()), reader.ReadUInt64());
    }
}

internal sealed class JobIdFormatter : IMessagePackFormatter<JobId>
{
    public void Serialize(ref MessagePackWriter writer, JobId value, MessagePackSerializerOptions options) => writer.Write(value.Value);

    public JobId Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) => new(reader.ReadUInt32());
}

internal sealed class NodeIdFormatter : IMessagePackFormatter<NodeId>
{
    public void Serialize(ref MessagePackWriter writer, NodeId value, MessagePackSerializerOptions options) => writer.Write(value.Value);

    public NodeId Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options) => new(reader.ReadUInt64());
}

/// <summary>A ref inside a value travels as its id and binds to the runtime of the process that reads it.</summary>
internal sealed class ObjectRefFormatter<T> : IMessagePackFormatter<ObjectRef<T>?>
{
    public void Serialize(ref MessagePackWriter writer, ObjectRef<T>? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        value.ThrowIfDisposed();
        ContainedRefs.Add(value);
        new ObjectIdFormatter().Serialize(ref writer, value.Id, options);
    }

    public ObjectRef<T>? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
            return null;
        var id = new ObjectIdFormatter().Deserialize(ref reader, options);
        return new ObjectRef<T>(id, Ray.Current);
    }
}

/// <summary>An actor handle inside a value travels as the actor id.</summary>
internal sealed class ActorHandleFormatter<T> : IMessagePackFormatter<ActorHandle<T>?>
    where T : class
{
    public void Serialize(ref MessagePackWriter writer, ActorHandle<T>? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        new ActorIdFormatter().Serialize(ref writer, value.Id, options);
    }

    public ActorHandle<T>? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
            return null;
        return new ActorHandle<T>(new ActorIdFormatter().Deserialize(ref reader, options), Ray.Current);
    }
}
