using RaySharp.Chain.Protocol;

namespace RaySharp.Chain.Client;

public sealed partial class ChainClient
{
    /// <summary>Frames a server sends without being asked.</summary>
    private ValueTask HandleServerFrameAsync(FramedConnection connection, Frame frame) => ValueTask.CompletedTask;
}
