using System.Buffers;

namespace RaySharp.ObjectStore.Tests;

public sealed class SessionTests
{
    [Fact]
    public async Task Remote_control_round_trips_every_call_through_a_session()
    {
        using var f = new StoreFixture();
        using var session = new ObjectStoreSession<TestKey>(f.Store);
        var control = Connect(session);
        using var client = new ObjectStoreClient<TestKey>(control, f.Store.Directory);

        await client.PutAsync(new TestKey(1), new byte[] { 1, 2, 3 }, "m"u8.ToArray());
        Assert.Equal(new ObjectInfo(ObjectState.Sealed, 3, 1, 0), await control.LookupAsync(new TestKey(1)));
        Assert.Null(await control.LookupAsync(new TestKey(2)));
        await using (var view = await client.GetAsync(new TestKey(1)))
        {
            Assert.Equal(new byte[] { 1, 2, 3 }, view.Data.ToArray());
            Assert.Equal(1, session.PinCount);
        }
        Assert.Equal(0, session.PinCount);
        Assert.True(await control.DeleteAsync(new TestKey(1)));
        Assert.False(await control.DeleteAsync(new TestKey(1)));
    }

    [Fact]
    public async Task Store_errors_cross_the_session_with_their_reason_and_message()
    {
        using var f = new StoreFixture(capacity: 8192);
        using var session = new ObjectStoreSession<TestKey>(f.Store);
        var control = Connect(session);

        var missing = await Assert.ThrowsAsync<ObjectStoreException>(() => control.PinAsync(new TestKey(7)).AsTask());
        var tooLarge = await Assert.ThrowsAsync<ObjectStoreFullException>(() => control.ReserveAsync(new TestKey(8), 100_000, 0).AsTask());
        var notPinned = await Assert.ThrowsAsync<ObjectStoreException>(() => control.ReleaseAsync(new TestKey(7)).AsTask());

        Assert.Equal(ObjectStoreError.NotFound, missing.Error);
        Assert.Contains("obj-0000000000000007", missing.Message, StringComparison.Ordinal);
        Assert.Equal(ObjectStoreError.TooLarge, tooLarge.Error);
        Assert.Equal(ObjectStoreError.InvalidState, notPinned.Error);
    }

    [Fact]
    public async Task Disposing_a_session_releases_its_pins_and_aborts_its_unsealed_objects()
    {
        using var f = new StoreFixture();
        await f.Client.PutAsync(new TestKey(1), new byte[100]);
        var session = new ObjectStoreSession<TestKey>(f.Store);
        var control = Connect(session);
        await control.PinAsync(new TestKey(1));
        await control.PinAsync(new TestKey(1));
        await control.ReserveAsync(new TestKey(2), 100, 0);

        session.Dispose();

        Assert.Equal(0, f.Store.Lookup(new TestKey(1))!.Value.PinCount);
        Assert.Null(f.Store.Lookup(new TestKey(2)));
        Assert.Throws<ObjectDisposedException>(() => session.Handle(new byte[9], new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public async Task A_malformed_request_gets_an_error_reply_and_the_session_keeps_working()
    {
        using var f = new StoreFixture();
        using var session = new ObjectStoreSession<TestKey>(f.Store);
        var reply = new ArrayBufferWriter<byte>();

        session.Handle([99, 1, 2], reply);
        var tooShort = Assert.Throws<ObjectStoreException>(() => ObjectStoreProtocol.CheckReply(reply.WrittenSpan, 0));
        reply.Clear();
        session.Handle([99, 0, 0, 0, 0, 0, 0, 0, 0], reply);
        var unknownOp = Assert.Throws<ObjectStoreException>(() => ObjectStoreProtocol.CheckReply(reply.WrittenSpan, 0));

        Assert.Contains("Malformed object store request of 3 bytes", tooShort.Message, StringComparison.Ordinal);
        Assert.Contains("operation 99", unknownOp.Message, StringComparison.Ordinal);
        await Connect(session).ReserveAsync(new TestKey(1), 10, 0);
    }

    [Fact]
    public async Task A_malformed_reply_is_reported_as_such()
    {
        var control = new RemoteObjectStoreControl<TestKey>((_, _) => ValueTask.FromResult<ReadOnlyMemory<byte>>(new byte[] { 0, 1 }));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => control.PinAsync(new TestKey(1)).AsTask());

        Assert.Contains("2-byte reply where 21 were expected", error.Message, StringComparison.Ordinal);
    }

    private static RemoteObjectStoreControl<TestKey> Connect(ObjectStoreSession<TestKey> session) => new((request, _) =>
    {
        var reply = new ArrayBufferWriter<byte>();
        session.Handle(request.Span, reply);
        return ValueTask.FromResult(reply.WrittenMemory);
    });
}
