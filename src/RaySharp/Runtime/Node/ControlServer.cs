using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RaySharp.Runtime.Node;

/// <summary>
/// Hosts <see cref="ControlService"/> in Kestrel over HTTP/2 (prior knowledge, no TLS): always on a Unix
/// socket in the node's session folder, and on TCP when <see cref="RayOptions.ControlPort"/> is set.
/// </summary>
internal sealed class ControlServer(Head head, string socketPath, string? host, int? port) : IAsyncDisposable
{
    private WebApplication? _app;

    public string SocketPath { get; } = socketPath;

    /// <summary>
    /// <c>unix:/…/control.sock</c>, then <c>host:port</c> once started on TCP; bound to every interface
    /// (0.0.0.0), one <c>address:port</c> per address of this machine that other machines can reach.
    /// </summary>
    public IReadOnlyList<string> Addresses { get; private set; } = ["unix:" + socketPath];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (File.Exists(SocketPath))
            File.Delete(SocketPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(head);
        IPEndPoint? tcp = null;
        if (port is { } p)
        {
            var address = host is null ? IPAddress.Loopback : ParseHost(host);
            tcp = new IPEndPoint(address, p);
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.ListenUnixSocket(SocketPath, o => o.Protocols = HttpProtocols.Http2);
            if (tcp is not null)
                k.Listen(tcp, o => o.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        app.MapGrpcService<ControlService>();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new RaySystemException(
                $"The node's control service could not listen on {(tcp is null ? SocketPath : $"{SocketPath} and {tcp}")}: {e.Message}. " +
                "Pick another port (--port) or stop what uses it.", e);
        }
        _app = app;
        if (tcp is not null)
        {
            // Port 0 binds a free port: read the one Kestrel got ("http://127.0.0.1:41234"; the Unix socket shows as "http://unix:/…").
            var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                .FirstOrDefault(a => !a.Contains("unix:", StringComparison.Ordinal));
            var actualPort = bound is not null && int.TryParse(bound.AsSpan(bound.LastIndexOf(':') + 1).TrimEnd('/'), out var found) ? found : tcp.Port;
            var wildcard = tcp.Address.Equals(IPAddress.Any) || tcp.Address.Equals(IPAddress.IPv6Any);
            var shown = wildcard ? ReachableHosts(tcp.Address.AddressFamily) : [tcp.Address.ToString()];
            Addresses = ["unix:" + SocketPath, .. shown.Select(h => $"{(h.Contains(':', StringComparison.Ordinal) ? $"[{h}]" : h)}:{actualPort}")];
        }
    }

    /// <summary>
    /// For a service bound to every interface (0.0.0.0 or ::): the addresses other machines reach it by —
    /// this machine's non-loopback unicast addresses (IPv4; IPv6 too for ::, link-local left out), or its
    /// host name when it has none. Loopback is left out: it only works from this machine.
    /// </summary>
    private static string[] ReachableHosts(System.Net.Sockets.AddressFamily bound)
    {
        var hosts = new List<string>();
        foreach (var nic in System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != System.Net.NetworkInformation.OperationalStatus.Up || nic.NetworkInterfaceType == System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
                continue;
            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                var a = unicast.Address;
                var usable = a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                    || (bound == System.Net.Sockets.AddressFamily.InterNetworkV6 && a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal);
                if (usable && !IPAddress.IsLoopback(a))
                    hosts.Add(a.ToString());
            }
        }
        return hosts.Count > 0 ? [.. hosts] : [Dns.GetHostName()];
    }

    private static IPAddress ParseHost(string host)
    {
        if (host == "localhost")
            return IPAddress.Loopback;
        if (IPAddress.TryParse(host, out var address))
            return address;
        throw new ArgumentException($"The control host '{host}' is not an IP address; use 127.0.0.1 (default), 0.0.0.0 (all interfaces) or one of this machine's addresses.");
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is { } app)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(stop.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
