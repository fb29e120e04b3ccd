using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RaySharp.Security;

/// <summary>
/// The owner and mode of an open file, read with <c>statx(2)</c> on its descriptor (Linux): .NET reports a
/// file's permission bits but not its owner. <c>struct statx</c> has one layout on every Linux architecture.
/// Elsewhere only the permission bits are checked (the owner reads as this process's user).
/// </summary>
internal static partial class UnixFileStatus
{
    /// <summary>The file-type bits of a regular file (S_IFREG).</summary>
    public const int RegularFile = 0x8000;

    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7FF;

    /// <summary>File type bits (S_IFMT), permission bits and owner's user id of an open file.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static (int Kind, int Mode, uint Owner) Of(SafeFileHandle handle, string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            var bits = (int)File.GetUnixFileMode(handle);
            return (RegularFile, bits, EffectiveUserId());
        }
        var buffer = new byte[256];
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxBasicStats, buffer) != 0)
                throw new IOException($"statx failed on {path} (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
        // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid (offset 20), u32 gid, u16 mode (offset 28).
        var uid = BitConverter.ToUInt32(buffer, 20);
        var mode = BitConverter.ToUInt16(buffer, 28);
        return (mode & 0xF000, mode & 0xFFF, uid);
    }

    /// <summary>The effective user id of this process.</summary>
    public static uint EffectiveUserId() => GetEffectiveUserId();

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, byte[] buffer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
