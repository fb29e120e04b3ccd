using MessagePack;
using RaySharp.Protocol;
using RaySharp.Runtime;

namespace RaySharp.Tests;

public class WireTests
{
    [Fact]
    public void A_hello_frame_round_trips_through_the_wire_encoding()
    {
        var bytes = MessagePackSerializer.Serialize<Message>(new Hello { WorkerId = 7, Pid = 42 }, RaySerializer.Wire);
        var back = Assert.IsType<Hello>(MessagePackSerializer.Deserialize<Message>(bytes, RaySerializer.Wire));
        Assert.Equal(7UL, back.WorkerId);
        Assert.Equal(42, back.Pid);
    }
}
