using System.Reflection;

namespace RaySharp.Worker;

/// <summary>
/// Entry point of a worker process. It is started by a node with the driver's own
/// <c>runtimeconfig.json</c> and <c>deps.json</c> (<c>dotnet exec --runtimeconfig … --depsfile …</c>), so
/// the job's assemblies and the RaySharp runtime resolve exactly as they do in the driver. It has no
/// compile-time reference to RaySharp (RaySharp references this project so that it is copied next to
/// every application); it binds to the runtime's worker loop once, at start-up.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        var entry = Type.GetType("RaySharp.Runtime.WorkerEntry, RaySharp", throwOnError: false);
        var run = entry?.GetMethod("Run", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static);
        if (run is null)
        {
            Console.Error.WriteLine(
                "RaySharp.Worker: the RaySharp assembly was not found next to the worker host. Start workers " +
                "through Ray.InitAsync or 'raysharp start', which pass the application's deps.json.");
            return 3;
        }
        return (int)run.Invoke(null, [args])!;
    }
}
