using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace RaySharp.Tests;

[Collection("cluster")]
public class BadInputTests(ClusterFixture cluster)
{
    private Ray Ray => cluster.Ray;

    [Fact]
    public void An_argument_that_cannot_be_serialised_is_rejected_at_the_call_with_its_type_named()
    {
        var error = Assert.Throws<ArgumentException>(() => Ray.Task(Describe, new Unserialisable()).Remote());
        Assert.Contains(nameof(Unserialisable), error.Message);
        Assert.Contains("Func", error.Message);
    }

    private static string Describe(Unserialisable u) => u.ToString()!;

    [Fact]
    public void A_ref_passed_where_the_parameter_is_object_is_refused_at_submit_with_what_to_declare_instead()
    {
        var five = Ray.Put(5);
        var error = Assert.Throws<ArgumentException>(() => Ray.Task(TypeOf, (object)five).Remote());
        Assert.Contains("Argument 'value' of TypeOf is an ObjectRef<Int32> but the parameter is of type Object", error.Message);
        Assert.Contains("Declare the parameter as Int32", error.Message);

        var counter = Ray.Actor(() => new Counter(0)).Remote();
        var actorError = Assert.Throws<ArgumentException>(() => counter.Call(c => c.Describe(five)));
        Assert.Contains("Argument 'value' of Describe is an ObjectRef<Int32>", actorError.Message);
        Ray.Kill(counter);
    }

    private static string TypeOf(object value) => value.GetType().Name;

    [Fact]
    public void A_lambda_that_captures_variables_is_rejected_with_what_to_do_instead()
    {
        var offset = 3;
        var error = Assert.Throws<ArgumentException>(() => Ray.Task((int x) => x + offset, 1).Remote());
        Assert.Contains("captures", error.Message);
    }

    [Fact]
    public async Task An_unknown_actor_name_and_a_wrongly_typed_lookup_give_clear_errors()
    {
        var missing = await Assert.ThrowsAsync<ArgumentException>(async () => await Ray.GetActorAsync<Counter>("no-such-actor"));
        Assert.Contains("No live actor is named 'no-such-actor'", missing.Message);

        var counter = Ray.Actor(() => new Counter(0)).WithName("typed-counter").Remote();
        await Within.Await(counter.Call(c => c.Value()).GetAsync(), "the actor");
        var wrong = await Assert.ThrowsAsync<ArgumentException>(async () => await Ray.GetActorAsync<Concurrent>("typed-counter"));
        Assert.Contains("is a RaySharp.Tests.Counter, not a RaySharp.Tests.Concurrent", wrong.Message);
        Ray.Kill(counter);
    }

    [Fact]
    public async Task A_second_actor_with_a_taken_name_fails_with_a_clear_error()
    {
        var first = Ray.Actor(() => new Counter(0)).WithName("unique-name").Remote();
        await Within.Await(first.Call(c => c.Value()).GetAsync(), "the first actor");
        var second = Ray.Actor(() => new Counter(0)).WithName("unique-name").Remote();
        var error = await Assert.ThrowsAsync<ActorDiedException>(async () => await second.Call(c => c.Value()).GetAsync().AsTask().WaitAsync(Within.Timeout));
        Assert.Contains("unique-name", error.Message);
        Ray.Kill(first);
    }

    [Fact]
    public async Task A_malformed_frame_gets_a_protocol_error_and_the_node_keeps_working()
    {
        var path = Ray.OwnedHead!.DataSocketPath!;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var garbage = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n");
        var frame = new byte[4 + garbage.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)garbage.Length);
        garbage.CopyTo(frame, 4);
        await socket.SendAsync(frame);

        var reply = new List<byte>();
        var buffer = new byte[4096];
        int n;
        using var timeout = new CancellationTokenSource(Within.Timeout);
        while ((n = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
            reply.AddRange(buffer.AsSpan(0, n).ToArray());
        var text = Encoding.UTF8.GetString([.. reply]);
        Assert.Contains("is not a RaySharp message", text);

        Assert.Equal(7, await Within.Await(Ray.Task(Work.Add, 3, 4).Remote().GetAsync(), "a task after the malformed frame"));
    }

    [Fact]
    public async Task Get_after_shutdown_says_the_instance_was_shut_down()
    {
        var ray = await Ray.InitAsync(new RayOptions { LocalMode = true });
        var value = ray.Put(5);
        await ray.DisposeAsync();
        var error = Assert.Throws<ObjectDisposedException>(() => value.Get());
        Assert.Contains("shut down", error.Message);
        Assert.Throws<ObjectDisposedException>(() => ray.Put(1));
    }
}
