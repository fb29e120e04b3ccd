using System.Globalization;
using System.Runtime.InteropServices;

namespace RaySharp.Runtime;

/// <summary>
/// The per-user folder where nodes keep their session folders (sockets) and the <c>raysharp</c> CLI its
/// head records: <c>$RAYSHARP_HOME</c> when set; else <c>$XDG_RUNTIME_DIR/raysharp</c> when that variable
/// names a folder of this user; else <c>raysharp-&lt;uid&gt;</c> in the temp folder (<c>/tmp</c>). It is
/// created with mode 0700 and, when it exists already, checked to be a real folder (not a link) owned by
/// this user (then set to 0700), so two users on one machine never share or block each other's folder.
/// </summary>
internal static partial class RuntimeDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const string SessionPrefix = "session-";

    /// <summary>The folder, created or checked; throws <see cref="RaySystemException"/> saying what is wrong and what to do.</summary>
    public static string Resolve()
    {
        if (Environment.GetEnvironmentVariable("RAYSHARP_HOME") is { Length: > 0 } home)
            return Ensure(Path.GetFullPath(home), "RAYSHARP_HOME");
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg && Directory.Exists(xdg) && OwnerOf(xdg) == UserId)
        {
            try
            {
                return Ensure(Path.Combine(xdg, "raysharp"), "XDG_RUNTIME_DIR");
            }
            catch (RaySystemException)
            {
                // Not usable (e.g. read-only): fall back to the temp folder.
            }
        }
        return Ensure(Path.Combine(Path.GetTempPath(), $"raysharp-{UserId.ToString(CultureInfo.InvariantCulture)}"), "the temp folder");
    }

    /// <summary>A new session folder name for the node of process <paramref name="pid"/>.</summary>
    public static string SessionName(int pid, ulong node) => $"{SessionPrefix}{pid.ToString(CultureInfo.InvariantCulture)}-{node:x8}";

    /// <summary>
    /// Removes the session folders under <paramref name="root"/> whose process is gone (a node or embedded
    /// driver that crashed or was killed before it could clean up); returns the folders removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveStaleSessions(string root)
    {
        var removed = new List<string>();
        foreach (var folder in Directory.EnumerateDirectories(root, SessionPrefix + "*"))
        {
            var name = Path.GetFileName(folder.AsSpan())[SessionPrefix.Length..];
            var dash = name.IndexOf('-');
            if (dash <= 0 || !int.TryParse(name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || ProcessLiveness.IsAlive(pid))
                continue;
            try
            {
                Directory.Delete(folder, recursive: true);
                removed.Add(folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process is removing it, or it is not ours to remove: leave it.
            }
        }
        return removed;
    }

    private static string Ensure(string folder, string source)
    {
        if (OperatingSystem.IsWindows())
            throw new PlatformNotSupportedException("RaySharp nodes run on Linux (Unix sockets, /dev/shm).");
        try
        {
            if (!Directory.Exists(folder) && !File.Exists(folder))
            {
                Directory.CreateDirectory(folder, OwnerOnly);
                File.SetUnixFileMode(folder, OwnerOnly); // whatever the umask did
                return folder;
            }
            var info = new DirectoryInfo(folder);
            if (info.LinkTarget is not null || !info.Exists)
                throw Refused(folder, source, "it is a link or a file, not a folder");
            var owner = OwnerOf(folder);
            if (owner != UserId)
                throw Refused(folder, source, $"it belongs to user {owner.ToString(CultureInfo.InvariantCulture)}, not to you (user {UserId.ToString(CultureInfo.InvariantCulture)})");
            if (info.UnixFileMode != OwnerOnly)
                File.SetUnixFileMode(folder, OwnerOnly);
            return folder;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Refused(folder, source, e.Message);
        }
    }

    private static RaySystemException Refused(string folder, string source, string why) => new(
        $"RaySharp cannot use {folder} (from {source}) as its runtime folder: {why}. It must be a folder of yours with mode 0700; " +
        "set RAYSHARP_HOME to such a folder, or remove this one.");

    private static uint UserId => geteuid();

    /// <summary>The owner's user id of <paramref name="path"/> (not following a link), by <c>statx</c>, whose layout is the same on every architecture.</summary>
    private static uint OwnerOf(string path)
    {
        const int atFdCwd = -100;
        const int atSymlinkNoFollow = 0x100;
        const uint statxUid = 0x8;
        const int uidOffset = 20; // stx_mask u32, stx_blksize u32, stx_attributes u64, stx_nlink u32, then stx_uid u32
        Span<byte> buffer = stackalloc byte[256];
        if (statx(atFdCwd, path, atSymlinkNoFollow, statxUid, ref MemoryMarshal.GetReference(buffer)) != 0)
            throw new IOException($"statx({path}) failed with errno {Marshal.GetLastPInvokeError().ToString(CultureInfo.InvariantCulture)}");
        return MemoryMarshal.Read<uint>(buffer[uidOffset..]);
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string pathname, int flags, uint mask, ref byte statxbuf);

    [LibraryImport("libc")]
    private static partial uint geteuid();
}
