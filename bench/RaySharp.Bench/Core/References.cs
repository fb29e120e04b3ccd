using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RaySharp.Bench.Core;

/// <summary>
/// The two references of the core benchmark: the floor of a synchronous call between two .NET processes
/// (a Unix-socket ping-pong) and the ceiling of put bandwidth (memcpy).
/// </summary>
internal static class References
{
    /// <summary>Message size of the ping-pong: about a small task spec or reply.</summary>
    private const int MessageBytes = 64;

    /// <summary>
    /// Round trips of a 64-byte message between this process and a peer process over a Unix domain socket,
    /// with async .NET sockets on both sides. Returns microseconds per round trip for each run.
    /// </summary>
    public static async Task<double[]> UdsRoundTripMicrosecondsAsync(int runs, int roundTrips, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Path.GetTempPath(), $"raysharp-bench-{Environment.ProcessId}.sock");
        File.Delete(path);
        try
        {
            await using var peer = await PeerProcess.StartAsync(["uds-echo", path, MessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(30), cancellationToken);
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            var message = new byte[MessageBytes];
            var reply = new byte[MessageBytes];

            async Task PingPong(int count)
            {
                for (var i = 0; i < count; i++)
                {
                    await socket.SendAsync(message, SocketFlags.None, cancellationToken);
                    for (var read = 0; read < MessageBytes;)
                    {
                        var n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, cancellationToken);
                        if (n == 0)
                            throw new IOException("The echo peer closed the Unix socket during the ping-pong.");
                        read += n;
                    }
                }
            }

            var rates = await Measure.RateAsync(runs, roundTrips, () => PingPong(roundTrips));
            return [.. rates.Select(r => 1e6 / r)];
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Copies a large buffer into another (both resident) <paramref name="copies"/> times per run and
    /// returns GB/s for each run.
    /// </summary>
    public static double[] MemcpyGigabytesPerSecond(int runs, int bytes, int copies)
    {
        var source = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        var destination = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        source.AsSpan().Fill(1);
        destination.AsSpan().Clear();
        var rates = Measure.Rate(runs, copies, () =>
        {
            for (var i = 0; i < copies; i++)
                source.AsSpan().CopyTo(destination);
        });
        return [.. rates.Select(r => r * bytes / 1e9)];
    }
}
