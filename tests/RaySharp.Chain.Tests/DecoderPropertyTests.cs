using System.Net;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using RaySharp.Chain.Client;
using RaySharp.Chain.Controller;
using RaySharp.Chain.Fuzz;
using RaySharp.Chain.Protocol;
using RaySharp.Chain.Server;
using static RaySharp.Chain.Tests.TestCluster;

namespace RaySharp.Chain.Tests;

/// <summary>
/// Property-based tests (FsCheck) over the decoders of bytes from other processes: whatever arrives, a decoder
/// accepts it or refuses it as malformed, never anything else; what the encoders write reads back the same.
/// Bounded case counts keep the suite to seconds in CI; the fuzz targets (fuzz/README.md) run the same decoders
/// for as long as one likes.
/// </summary>
public sealed class DecoderPropertyTests
{
    [Property(MaxTest = 3000)]
    public void Arbitrary_bytes_are_decoded_or_refused_as_malformed_never_a_crash(byte decoder, byte[] payload) =>
        DecoderTargets.Run([decoder, .. payload]);

    [Property(MaxTest = 3000)]
    public void A_valid_encoding_cut_short_or_with_one_byte_changed_is_decoded_or_refused_never_a_crash(byte decoder, int position, byte value, bool cut)
    {
        var valid = DecoderTargets.ValidInput(decoder % DecoderTargets.Count);
        var i = 1 + (int)((uint)position % (uint)(valid.Length - 1));
        var input = cut ? valid[..i] : valid;
        if (!cut)
            input[i] = value;
        DecoderTargets.Run(input);
    }

    [Fact]
    public void Every_valid_encoding_is_accepted()
    {
        for (var d = 0; d < DecoderTargets.Count; d++)
            Assert.True(DecoderTargets.Run(DecoderTargets.ValidInput(d)), $"decoder {d} refused a valid input");
    }

    /// <summary>Inputs the fuzzer found crashing (fuzz/README.md), kept as regressions: each must be decoded or
    /// refused, nothing else.</summary>
    [Theory]
    [InlineData("210300616c7565")] // 2026-12-08, AFL++ (1.9 s in): a key shorter than the lease prefix sliced past its end in TryParseLeaseKey
    public void Inputs_the_fuzzer_found_crashing_are_decoded_or_refused(string hex) =>
        DecoderTargets.Run(Convert.FromHexString(hex));

    [Property(MaxTest = 500)]
    public void A_configuration_reads_back_as_written(long epoch, byte replicas, byte[] chainLengths, int seed)
    {
        var random = new Random(seed);
        var servers = Enumerable.Range(0, 1 + random.Next(8)).ToDictionary(id => id, id => new IPEndPoint(IPAddress.Loopback, 7000 + id));
        var chains = chainLengths.Take(64).Select(l => Enumerable.Range(0, l % 4).Select(_ => random.Next(servers.Count)).ToArray()).ToArray();
        if (chains.Length == 0)
            chains = [[]];
        var joining = chains.Select(_ => random.Next(3) == 0 ? random.Next(servers.Count) : ChainConfig.NoJoiner).ToArray();
        var config = new ChainConfig(epoch, 1 + replicas % 16, servers, chains, joining);
        var frame = config.WriteTo(new FrameBuilder(OpCode.ConfigReply, 0)).Build();
        var reader = new WireReader(frame.Buffer.AsSpan(13, frame.Length - 13));
        var back = ChainConfig.Read(ref reader);
        reader.End();
        frame.Return();
        Assert.Equal(config.Epoch, back.Epoch);
        Assert.Equal(config.Replicas, back.Replicas);
        Assert.Equal(config.Servers.OrderBy(s => s.Key), back.Servers.OrderBy(s => s.Key));
        Assert.Equal(config.Chains, back.Chains);
        Assert.Equal(config.Joining, back.Joining);
    }

    [Property(MaxTest = 500)]
    public void A_lease_record_reads_back_as_written(int ttl, bool[] kinds, NonNull<string>[] keys)
    {
        var ttlMs = Coordination.MinLeaseTtlMs + (int)((uint)ttl % (Coordination.MaxLeaseTtlMs - Coordination.MinLeaseTtlMs + 1));
        var attached = kinds.Zip(keys, (lockKind, key) => (lockKind ? (byte)'L' : (byte)'K', key.Get.Replace('\uFFFD', '?'))).Where(a => !HasLoneSurrogate(a.Item2)).ToList();
        Assert.True(Coordination.TryParseLease(Coordination.LeaseRecord(ttlMs, attached), out var readTtl, out var readAttached));
        Assert.Equal(ttlMs, readTtl);
        Assert.Equal(attached, readAttached);
    }

    [Property(MaxTest = 300)]
    public void A_lease_key_parses_back_to_its_id(long id)
    {
        Assert.True(Coordination.TryParseLeaseKey(Coordination.LeaseKey(id), out var back));
        Assert.Equal(id, back);
    }

    [Theory]
    [InlineData("\0lease/not-hex")]
    [InlineData("\0lease/zz")]
    [InlineData("\0lease/")]
    [InlineData("\0lease/00000000000000001")]
    [InlineData("\0lease/-000000000000001")]
    [InlineData("")]
    [InlineData("alue")]
    public void Malformed_lease_keys_do_not_parse(string key) =>
        Assert.False(Coordination.TryParseLeaseKey(key, out _));

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 1, 2 })]
    [InlineData(new byte[] { 100, 0, 0, 0, (byte)'K', 5, 0, (byte)'a' })]
    [InlineData(new byte[] { 100, 0, 0, 0, (byte)'X', 1, 0, (byte)'a' })]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 100, 0, 0, 0, (byte)'K', 1, 0, 0xFF })]
    public void The_issues_malformed_lease_records_do_not_parse(byte[] record) =>
        Assert.False(Coordination.TryParseLease(record, out _, out _));

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                i++;
            else if (char.IsSurrogate(text[i]))
                return true;
        }
        return false;
    }

}

/// <summary>Random frames of every operation code sent to a live in-process server: refused or answered, and the
/// server keeps serving (a property over the real dispatch path, bounded for CI).</summary>
public sealed class ServerFramePropertyTests : IAsyncLifetime
{
    private ChainController _controller = null!;
    private ChainServer _server = null!;
    private ChainClient _client = null!;

    public async Task InitializeAsync()
    {
        _controller = await ChainController.StartAsync(new ChainControllerOptions { Replicas = 1, GroupCount = 4 });
        _server = await ChainServer.StartAsync(new ChainServerOptions { ServerId = 0, Controller = _controller.EndPoint });
        _client = await ChainClient.ConnectAsync(new ChainClientOptions { Controller = _controller.EndPoint, OperationTimeout = TimeSpan.FromSeconds(30), AttemptTimeout = TimeSpan.FromSeconds(10) });
        await WaitForViewAsync(_client, v => v.Chains.All(c => c.Count == 1), "the single server to own every group");
        await _client.PutAsync("safe", Bytes("intact"));
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _server.DisposeAsync();
        await _controller.DisposeAsync();
    }

    [Fact]
    public void Random_frames_of_every_operation_never_stop_the_server()
    {
        var frames = Gen.Choose(0, 80).SelectMany(op => ArbMap.Default.GeneratorFor<byte[]>().Select(payload => ((byte)op, payload)));
        Prop.ForAll(Arb.From(frames), frame =>
        {
            var (op, payload) = frame;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var connection = FramedConnection.ConnectAsync(_server.EndPoint, TimeSpan.FromSeconds(10), timeout.Token).GetAwaiter().GetResult();
            try
            {
                connection.Start((_, _) => ValueTask.CompletedTask);
                connection.Send(new FrameBuilder((OpCode)op, connection.NextRequestId()).Raw(payload).Build());
                // A request after it on the same connection: answered once the random frame has been handled.
                var id = connection.NextRequestId();
                try
                {
                    connection.RequestAsync(id, new FrameBuilder(OpCode.GetConfig, id).Build(), TimeSpan.FromSeconds(20), timeout.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (ConnectionClosedException)
                {
                    // the server closed a connection that broke the protocol: allowed
                }
            }
            finally
            {
                connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
            Assert.Equal("intact", Text(_client.GetAsync("safe").GetAwaiter().GetResult().Value));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(1, 1));
    }
}
