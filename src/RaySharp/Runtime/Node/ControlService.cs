using Grpc.Core;
using RaySharp.Control;

namespace RaySharp.Runtime.Node;

/// <summary>
/// The node's gRPC control service (<c>control.proto</c>): status, listings, timeline, named-actor lookup,
/// kill and shutdown for tools and attaching drivers. Every call reads a snapshot taken under the node
/// lock; nothing here is on the task path.
/// </summary>
internal sealed class ControlService(Head head) : NodeControl.NodeControlBase
{
    private const int DefaultLimit = 1000;

    public override Task<NodeInfo> GetNodeInfo(NodeInfoRequest request, ServerCallContext context) => Task.FromResult(head.NodeInfo());

    public override Task<ClusterStatus> GetClusterStatus(ClusterStatusRequest request, ServerCallContext context) => Task.FromResult(head.ClusterStatus());

    public override Task<TaskList> ListTasks(ListRequest request, ServerCallContext context) => Task.FromResult(head.ListTasks(Limit(request)));

    public override Task<ActorList> ListActors(ListRequest request, ServerCallContext context) => Task.FromResult(head.ListActors());

    public override Task<ObjectList> ListObjects(ListRequest request, ServerCallContext context) => Task.FromResult(head.ListObjects(Limit(request)));

    public override Task<Control.Timeline> GetTimeline(TimelineRequest request, ServerCallContext context) => Task.FromResult(head.TimelineEvents());

    public override Task<ActorInfo> GetNamedActor(NamedActorRequest request, ServerCallContext context)
    {
        if (string.IsNullOrEmpty(request.Name))
            throw new RpcException(new Status(StatusCode.InvalidArgument, "GetNamedActor needs the actor's name."));
        return Task.FromResult(head.NamedActor(request.Name)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"No live actor is named '{request.Name}' on node {head.Node} (names are case-sensitive).")));
    }

    public override Task<KillActorReply> KillActor(KillActorRequest request, ServerCallContext context)
    {
        var (name, id) = request.ActorCase switch
        {
            KillActorRequest.ActorOneofCase.Name when request.Name.Length > 0 => (request.Name, (string?)null),
            KillActorRequest.ActorOneofCase.ActorId when request.ActorId.Length > 0 => (null, request.ActorId),
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "KillActor needs the actor's name or its id (actor-…).")),
        };
        var killed = head.KillActor(name, id, request.AllowRestart)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"No live actor {(name is null ? "has id " + id : "is named '" + name + "'")} on node {head.Node}."));
        return Task.FromResult(new KillActorReply { Actor = killed });
    }

    public override Task<ShutdownReply> Shutdown(ShutdownRequest request, ServerCallContext context)
    {
        if (head.ShutdownRequested is not { } shutdown)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"Node {head.Node} is embedded in driver process {Environment.ProcessId}; it stops when that driver disposes its Ray."));
        }
        // Reply first; the node stops after the response has been written.
        context.GetHttpContext().Response.OnCompleted(() =>
        {
            shutdown();
            return Task.CompletedTask;
        });
        return Task.FromResult(new ShutdownReply { Pid = Environment.ProcessId });
    }

    private static int Limit(ListRequest request) => request.Limit switch
    {
        < 0 => throw new RpcException(new Status(StatusCode.InvalidArgument, $"A list limit cannot be negative ({request.Limit}).")),
        0 => DefaultLimit,
        var n => n,
    };
}
