using System.Globalization;

namespace RaySharp.Runtime;

/// <summary>
/// Whether a process still runs, read from <c>/proc</c>. Shared by the node (stale session folders) and the
/// <c>raysharp</c> CLI (stale head records), which links this file: a node started by <c>start</c> is
/// re-parented (setsid), so killed it may stay a zombie until its new parent reaps it, and a zombie counts
/// as dead.
/// </summary>
internal static class ProcessLiveness
{
    /// <summary>True while process <paramref name="pid"/> exists on this machine and is not a zombie (dead, not yet reaped).</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
            return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0]; // "pid (name) S …": the name may hold spaces and parentheses
            return state is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
