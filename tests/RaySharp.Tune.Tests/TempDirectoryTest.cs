namespace RaySharp.Tune.Tests;

/// <summary>A test class whose experiments write under <see cref="Root"/>: a fresh temp folder per test, deleted after it.</summary>
public abstract class TempDirectoryTest : IDisposable
{
    /// <summary>This test's own folder (created by whatever writes into it first).</summary>
    protected string Root { get; } = Path.Combine(Path.GetTempPath(), "raysharp-tune-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Deletes <see cref="Root"/>.</summary>
    public void Dispose()
    {
        if (Directory.Exists(Root))
            Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
