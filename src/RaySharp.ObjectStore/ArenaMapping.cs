using Microsoft.Win32.SafeHandles;

namespace RaySharp.ObjectStore;

/// <summary>
/// One mapping of the store's arena in this process, reference counted: the client holds one reference
/// and every live writer or view holds one, so disposing the client while views are alive never unmaps
/// memory that is still readable.
/// </summary>
internal sealed unsafe class ArenaMapping
{
    private int _references = 1;

    private ArenaMapping(byte* pointer, long length)
    {
        Pointer = pointer;
        Length = length;
    }

    public byte* Pointer { get; }

    public long Length { get; }

    public static ArenaMapping Open(string path, bool writable, bool populate)
    {
        SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite);
        }
        catch (FileNotFoundException e)
        {
            throw new ArgumentException($"No object store arena at '{path}': is the store running, and is this its Directory?", nameof(path), e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new ArgumentException($"No object store arena at '{path}': is the store running, and is this its Directory?", nameof(path), e);
        }
        using (file)
        {
            var length = RandomAccess.GetLength(file);
            var pointer = Native.Map(file, length, writable, path);
            if (populate)
                Native.PopulatePageTables(pointer, length, writable);
            return new ArenaMapping(pointer, length);
        }
    }

    public void AddReference()
    {
        while (true)
        {
            var current = Volatile.Read(ref _references);
            ObjectDisposedException.ThrowIf(current == 0, this);
            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
                return;
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
            Native.Unmap(Pointer, Length);
    }

    /// <summary>Checks that a location received from the control interface lies inside this arena.</summary>
    public void CheckBounds(ObjectLocation location, string key)
    {
        if (location.Offset < 0 || location.Offset % ArenaAllocator.Alignment != 0 || location.DataSize < 0 || location.MetadataSize < 0 ||
            location.Offset + location.AllocatedSize > Length)
        {
            throw new InvalidOperationException(
                $"The object store returned location {location} for object {key}, outside the {Length:N0}-byte arena. " +
                "The control transport and the mapped store disagree: check that the client maps the same store the control talks to.");
        }
    }
}
