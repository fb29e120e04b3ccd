using System.Net;
using System.Text;
using RaySharp.Chain.Protocol;

namespace RaySharp.Chain;

/// <summary>
/// The cluster map at one epoch: the servers, and for each virtual group its chain (head first, tail
/// last) and the server, if any, being pre-synchronised to join it. Written only by the controller.
/// </summary>
internal sealed class ChainConfig
{
    public const int NoJoiner = -1;

    public ChainConfig(long epoch, int replicas, IReadOnlyDictionary<int, IPEndPoint> servers, int[][] chains, int[] joining)
    {
        if (chains.Length != joining.Length)
            throw new ArgumentException("Every group needs a joining slot.", nameof(joining));
        Epoch = epoch;
        Replicas = replicas;
        Servers = servers;
        Chains = chains;
        Joining = joining;
    }

    public long Epoch { get; }

    /// <summary>Desired chain length, f + 1.</summary>
    public int Replicas { get; }

    public IReadOnlyDictionary<int, IPEndPoint> Servers { get; }

    public int[][] Chains { get; }

    public int[] Joining { get; }

    public int GroupCount => Chains.Length;

    public int Head(int group) => Chains[group].Length == 0 ? -1 : Chains[group][0];

    public int Tail(int group) => Chains[group].Length == 0 ? -1 : Chains[group][^1];

    public int IndexOf(int group, int server) => Array.IndexOf(Chains[group], server);

    public int Predecessor(int group, int server)
    {
        var i = IndexOf(group, server);
        return i > 0 ? Chains[group][i - 1] : -1;
    }

    public int Successor(int group, int server)
    {
        var i = IndexOf(group, server);
        return i >= 0 && i < Chains[group].Length - 1 ? Chains[group][i + 1] : -1;
    }

    public ChainConfig With(long epoch, int[][] chains, int[] joining, IReadOnlyDictionary<int, IPEndPoint>? servers = null) =>
        new(epoch, Replicas, servers ?? Servers, chains, joining);

    public FrameBuilder WriteTo(FrameBuilder frame)
    {
        frame.I64(Epoch).I32(Replicas).I32(Servers.Count);
        foreach (var (id, endPoint) in Servers.OrderBy(s => s.Key))
            frame.I32(id).Bytes(Encoding.ASCII.GetBytes(endPoint.ToString()));
        frame.I32(Chains.Length);
        for (var g = 0; g < Chains.Length; g++)
        {
            frame.I32(Joining[g]).U8((byte)Chains[g].Length);
            foreach (var s in Chains[g])
                frame.I32(s);
        }
        return frame;
    }

    public static ChainConfig Read(ref WireReader reader)
    {
        var epoch = reader.I64();
        var replicas = reader.I32();
        var serverCount = reader.I32();
        if (serverCount is < 0 or > 4096 || replicas is < 1 or > 16)
            throw new ProtocolException(ErrorCode.Malformed, $"Config with {serverCount} servers and {replicas} replicas is out of range.");
        var servers = new Dictionary<int, IPEndPoint>();
        for (var i = 0; i < serverCount; i++)
        {
            var id = reader.I32();
            if (!IPEndPoint.TryParse(Encoding.ASCII.GetString(reader.Bytes()), out var endPoint))
                throw new ProtocolException(ErrorCode.Malformed, $"Server {id} has an unparsable address.");
            servers[id] = endPoint;
        }
        var groups = reader.I32();
        if (groups is < 1 or > 65536)
            throw new ProtocolException(ErrorCode.Malformed, $"Config with {groups} groups is out of range.");
        var chains = new int[groups][];
        var joining = new int[groups];
        for (var g = 0; g < groups; g++)
        {
            joining[g] = reader.I32();
            var length = reader.U8();
            chains[g] = new int[length];
            for (var i = 0; i < length; i++)
            {
                chains[g][i] = reader.I32();
                if (!servers.ContainsKey(chains[g][i]))
                    throw new ProtocolException(ErrorCode.Malformed, $"Config names server {chains[g][i]} in group {g}'s chain but has no address for it.");
            }
            if (joining[g] != NoJoiner && !servers.ContainsKey(joining[g]))
                throw new ProtocolException(ErrorCode.Malformed, $"Config names server {joining[g]} as group {g}'s joiner but has no address for it.");
        }
        return new ChainConfig(epoch, replicas, servers, chains, joining);
    }

    public override string ToString()
    {
        var text = new StringBuilder().Append("epoch ").Append(Epoch).Append(':');
        for (var g = 0; g < Math.Min(Chains.Length, 8); g++)
            text.Append(" g").Append(g).Append('[').AppendJoin(',', Chains[g]).Append(Joining[g] >= 0 ? $"+{Joining[g]}" : "").Append(']');
        return text.ToString();
    }
}

/// <summary>
/// Consistent hashing. A key belongs to virtual group <c>hash(key) mod G</c>; a group's chain is the
/// first f + 1 distinct servers met clockwise from the group's point on a ring holding
/// <see cref="PointsPerServer"/> points per server. Adding or removing a server moves only the groups
/// whose chains it enters or leaves.
/// </summary>
internal static class Placement
{
    public const int PointsPerServer = 64;

    public static int GroupOf(string key, int groupCount) => (int)(Hash(key) % (ulong)groupCount);

    public static int[] DesiredChain(int group, IReadOnlyCollection<int> servers, int replicas)
    {
        var ring = new List<(ulong Point, int Server)>(servers.Count * PointsPerServer);
        foreach (var s in servers)
        {
            for (var i = 0; i < PointsPerServer; i++)
                ring.Add((Hash($"server/{s}/{i}"), s));
        }
        ring.Sort((a, b) => a.Point.CompareTo(b.Point));
        var chain = new List<int>(replicas);
        if (ring.Count == 0)
            return [];
        var start = ring.FindIndex(p => p.Point >= Hash($"group/{group}"));
        if (start < 0)
            start = 0;
        for (var i = 0; i < ring.Count && chain.Count < replicas; i++)
        {
            var s = ring[(start + i) % ring.Count].Server;
            if (!chain.Contains(s))
                chain.Add(s);
        }
        return [.. chain];
    }

    /// <summary>FNV-1a over UTF-8 with a murmur finaliser: stable across processes and runs.</summary>
    public static ulong Hash(string text)
    {
        var h = 14695981039346656037UL;
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(text.Length, 512))];
        if (Encoding.UTF8.GetMaxByteCount(text.Length) > utf8.Length)
            utf8 = Encoding.UTF8.GetBytes(text);
        else
            utf8 = utf8[..Encoding.UTF8.GetBytes(text, utf8)];
        foreach (var b in utf8)
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53UL;
        h ^= h >> 33;
        return h;
    }
}
