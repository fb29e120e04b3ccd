using System.Diagnostics;

namespace RaySharp.Bench.Core;

/// <summary>
/// A running <c>RaySharp.Bench.Peer</c> (built next to this program): started with a mode, awaited until
/// it prints <c>ready</c>, stopped by closing its standard input (killed if it does not exit).
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stderr;

    private PeerProcess(Process process)
    {
        _process = process;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public static async Task<PeerProcess> StartAsync(IEnumerable<string> args, TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RaySharp.Bench.Peer.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"The benchmark peer is missing at {dll}; build bench/RaySharp.Bench (it references RaySharp.Bench.Peer).", dll);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        var peer = new PeerProcess(Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start the benchmark peer."));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(readyTimeout);
        try
        {
            while (await peer._process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line == "ready")
                    return peer;
            }
            throw new InvalidOperationException($"The benchmark peer ({string.Join(' ', start.ArgumentList)}) exited before it was ready: {await peer._stderr}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await peer.DisposeAsync();
            throw new TimeoutException($"The benchmark peer ({string.Join(' ', start.ArgumentList)}) did not print 'ready' within {readyTimeout.TotalSeconds:F0} s.");
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}
