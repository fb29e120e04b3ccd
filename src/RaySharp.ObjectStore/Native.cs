using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RaySharp.ObjectStore;

/// <summary>The few libc calls the store needs: mapping a shared-memory file into the address space.</summary>
internal static unsafe partial class Native
{
    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapShared = 0x01;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(nint address, nuint length, int advice);

    private const int MadvPopulateRead = 22;
    private const int MadvPopulateWrite = 23;
    private const int PageSize = 4096;

    /// <summary>
    /// Commits and maps every page of a writable mapping now (MADV_POPULATE_WRITE, Linux 5.14+; on older
    /// kernels by writing one byte per page, which the caller's fresh arena holds as zeros anyway).
    /// </summary>
    public static void Populate(byte* address, long length)
    {
        if (Madvise((nint)address, (nuint)length, MadvPopulateWrite) == 0)
            return;
        for (long offset = 0; offset < length; offset += PageSize)
            Volatile.Write(ref address[offset], (byte)0);
    }

    /// <summary>Maps <paramref name="length"/> bytes of the file shared between processes.</summary>
    public static byte* Map(SafeFileHandle file, long length, bool writable, string path)
    {
        EnsureLinux();
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var address = Mmap(0, (nuint)length, writable ? ProtRead | ProtWrite : ProtRead, MapShared,
                (int)file.DangerousGetHandle(), 0);
            if (address == -1)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException(
                    $"mmap of {length:N0} bytes of '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}). " +
                    "Check that the shared-memory file system has room and the process may map that much memory.");
            }
            return (byte*)address;
        }
        finally
        {
            if (added)
                file.DangerousRelease();
        }
    }

    /// <summary>
    /// Fills this process's page tables for a mapping of pages that are already resident, so the first
    /// access to each page does not fault one by one. Best effort: on kernels without MADV_POPULATE_* the
    /// pages fault in on first use as usual.
    /// </summary>
    public static void PopulatePageTables(byte* address, long length, bool writable) =>
        _ = Madvise((nint)address, (nuint)length, writable ? MadvPopulateWrite : MadvPopulateRead);

    /// <summary>Removes a mapping made by <see cref="Map"/>.</summary>
    public static void Unmap(byte* address, long length)
    {
        if (Munmap((nint)address, (nuint)length) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"munmap failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
        }
    }

    public static void EnsureLinux()
    {
        if (!OperatingSystem.IsLinux())
            throw new PlatformNotSupportedException("The RaySharp object store maps /dev/shm files and runs on Linux only.");
    }
}
