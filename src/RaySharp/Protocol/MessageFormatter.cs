using MessagePack;
using MessagePack.Formatters;

namespace RaySharp.Protocol;

/// <summary>
/// Encodes a <see cref="Message"/> as <c>[tag, body]</c>. Written by hand because MessagePack's dynamic
/// union resolver cannot build formatters for internal types; the bodies use the AllowPrivate object
/// formatters.
/// </summary>
internal sealed class MessageFormatter : IMessagePackFormatter<Message?>
{
    private static readonly Type[] Types =
    [
        typeof(Hello), typeof(HelloReply), typeof(Execute), typeof(TaskResult), typeof(Submit), typeof(Put),
        typeof(GetRequest), typeof(GetReply), typeof(WaitRequest), typeof(WaitReply), typeof(LookupActor),
        typeof(LookupActorReply), typeof(KillActor), typeof(CancelObject), typeof(CancelTask), typeof(Release),
        typeof(ProtocolError), typeof(StatusRequest), typeof(StatusReply), typeof(StoreCall), typeof(StoreReply),
        typeof(TaskStarted), typeof(StealTasks), typeof(TasksReturned),
    ];

    private static readonly Dictionary<Type, int> Tags = Types.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);

    public void Serialize(ref MessagePackWriter writer, Message? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }
        var tag = Tags[value.GetType()];
        writer.WriteArrayHeader(2);
        writer.Write(tag);
        switch (value)
        {
            case Hello m: Body(ref writer, m, options); break;
            case HelloReply m: Body(ref writer, m, options); break;
            case Execute m: Body(ref writer, m, options); break;
            case TaskResult m: Body(ref writer, m, options); break;
            case Submit m: Body(ref writer, m, options); break;
            case Put m: Body(ref writer, m, options); break;
            case GetRequest m: Body(ref writer, m, options); break;
            case GetReply m: Body(ref writer, m, options); break;
            case WaitRequest m: Body(ref writer, m, options); break;
            case WaitReply m: Body(ref writer, m, options); break;
            case LookupActor m: Body(ref writer, m, options); break;
            case LookupActorReply m: Body(ref writer, m, options); break;
            case KillActor m: Body(ref writer, m, options); break;
            case CancelObject m: Body(ref writer, m, options); break;
            case CancelTask m: Body(ref writer, m, options); break;
            case Release m: Body(ref writer, m, options); break;
            case ProtocolError m: Body(ref writer, m, options); break;
            case StatusRequest m: Body(ref writer, m, options); break;
            case StatusReply m: Body(ref writer, m, options); break;
            case StoreCall m: Body(ref writer, m, options); break;
            case StoreReply m: Body(ref writer, m, options); break;
            case TaskStarted m: Body(ref writer, m, options); break;
            case StealTasks m: Body(ref writer, m, options); break;
            case TasksReturned m: Body(ref writer, m, options); break;
        }
    }

    public Message? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
            return null;
        if (reader.ReadArrayHeader() != 2)
            throw new MessagePackSerializationException("A message must be a [tag, body] array.");
        var tag = reader.ReadInt32();
        return tag switch
        {
            0 => Read<Hello>(ref reader, options),
            1 => Read<HelloReply>(ref reader, options),
            2 => Read<Execute>(ref reader, options),
            3 => Read<TaskResult>(ref reader, options),
            4 => Read<Submit>(ref reader, options),
            5 => Read<Put>(ref reader, options),
            6 => Read<GetRequest>(ref reader, options),
            7 => Read<GetReply>(ref reader, options),
            8 => Read<WaitRequest>(ref reader, options),
            9 => Read<WaitReply>(ref reader, options),
            10 => Read<LookupActor>(ref reader, options),
            11 => Read<LookupActorReply>(ref reader, options),
            12 => Read<KillActor>(ref reader, options),
            13 => Read<CancelObject>(ref reader, options),
            14 => Read<CancelTask>(ref reader, options),
            15 => Read<Release>(ref reader, options),
            16 => Read<ProtocolError>(ref reader, options),
            17 => Read<StatusRequest>(ref reader, options),
            18 => Read<StatusReply>(ref reader, options),
            19 => Read<StoreCall>(ref reader, options),
            20 => Read<StoreReply>(ref reader, options),
            21 => Read<TaskStarted>(ref reader, options),
            22 => Read<StealTasks>(ref reader, options),
            23 => Read<TasksReturned>(ref reader, options),
            _ => throw new MessagePackSerializationException($"Unknown message tag {tag}."),
        };
    }

    private static void Body<T>(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);

    private static T Read<T>(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);
}
