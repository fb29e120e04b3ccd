using RaySharp.JoinOpt;

namespace RaySharp.JoinOpt.Tests;

public sealed class DataDirectoryTests
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RaySharp.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"The tests run outside the repository ({AppContext.BaseDirectory}).");
    }

    [Fact]
    public void The_JOB_data_is_read_from_the_repositorys_data_folder()
    {
        var root = RepositoryRoot();
        Assert.Equal(Path.Combine(root, "data", "job"), Catalog.LocateDataDirectory(null, null));
        Assert.Equal(Path.Combine(root, "data", "job"), Catalog.LocateDataDirectory(Path.Combine(root, "src", "RaySharp.JoinOpt"), null));
        Assert.True(File.Exists(Path.Combine(root, "data", "job", "README.md")), "data/job has no README naming its sources");
    }

    [Fact]
    public void The_override_accepts_the_job_folder_or_the_folder_above_it()
    {
        var data = Path.Combine(RepositoryRoot(), "data");
        Assert.Equal(Path.Combine(data, "job"), Catalog.LocateDataDirectory(null, data));
        Assert.Equal(Path.Combine(data, "job"), Catalog.LocateDataDirectory(null, Path.Combine(data, "job")));
    }

    [Fact]
    public void An_override_without_the_data_says_what_it_points_at()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), $"raysharp-no-data-{Guid.NewGuid():N}");
        var error = Assert.Throws<DirectoryNotFoundException>(() => Catalog.LocateDataDirectory(null, nowhere));
        Assert.Contains($"RAYSHARP_DATA is '{nowhere}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_a_repository_the_error_says_how_to_give_the_data()
    {
        var outside = Directory.CreateTempSubdirectory("raysharp-outside-").FullName;
        try
        {
            var error = Assert.Throws<DirectoryNotFoundException>(() => Catalog.LocateDataDirectory(outside, null));
            Assert.Contains("--data DIR", error.Message, StringComparison.Ordinal);
            Assert.Contains("RAYSHARP_DATA", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(outside);
        }
    }

    [Fact]
    public void A_data_directory_that_does_not_exist_is_named()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), $"raysharp-no-data-{Guid.NewGuid():N}");
        var error = Assert.Throws<MissingStatisticsException>(() => Catalog.Load(nowhere));
        Assert.Contains($"'{nowhere}' does not exist", error.Message, StringComparison.Ordinal);
    }
}
