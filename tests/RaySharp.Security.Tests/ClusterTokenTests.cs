using System.Diagnostics;

namespace RaySharp.Security.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterTokenTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "raysharp-token-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public void A_created_token_file_is_private_to_its_owner_and_reads_back_as_the_same_token()
    {
        var path = Path.Combine(_folder, "token");
        var token = ClusterToken.CreateFile(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_folder));
        Assert.Equal(token.ToHex(), ClusterToken.ReadFile(path).ToHex());
        Assert.Equal(64, token.ToHex().Length);
        Assert.NotEqual(token.ToHex(), ClusterToken.Generate().ToHex());
    }

    [Fact]
    public void A_token_never_shows_its_secret_as_a_string() =>
        Assert.DoesNotContain(ClusterToken.Generate().ToHex(), ClusterToken.Generate().ToString(), StringComparison.Ordinal);

    [Fact]
    public void Creating_a_token_file_that_exists_is_refused_rather_than_overwriting_it()
    {
        var path = Path.Combine(_folder, "token");
        var first = ClusterToken.CreateFile(path);
        var e = Assert.Throws<ClusterTokenException>(() => ClusterToken.CreateFile(path));
        Assert.Contains("already exists", e.Message, StringComparison.Ordinal);
        Assert.Equal(first.ToHex(), ClusterToken.ReadFile(path).ToHex());
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherWrite)]
    public void A_token_file_others_can_read_or_write_is_refused(UnixFileMode mode)
    {
        var path = Path.Combine(_folder, "token");
        ClusterToken.CreateFile(path);
        File.SetUnixFileMode(path, mode);
        var e = Assert.Throws<ClusterTokenException>(() => ClusterToken.ReadFile(path));
        Assert.Contains("chmod 600", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_file_owned_by_another_user_is_refused()
    {
        var path = Path.Combine(_folder, "token");
        ClusterToken.CreateFile(path);
        // Only root can give a file away; as another user, a file of root's stands in (e.g. /etc/shadow is 0640).
        if (Environment.UserName != "root")
            path = "/etc/shadow";
        else
            Chown(path, "65534");
        var e = Assert.Throws<ClusterTokenException>(() => ClusterToken.ReadFile(path));
        Assert.Matches("belongs to user id|Cannot read|mode", e.Message);
        if (Environment.UserName == "root")
            Assert.Contains("belongs to user id 65534", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000")]
    public void Text_that_is_not_64_hex_digits_is_not_a_token(string text)
    {
        var e = Assert.Throws<ClusterTokenException>(() => ClusterToken.Parse(text));
        Assert.Contains("64 hexadecimal digits", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_token_file_is_reported_by_its_path()
    {
        var path = Path.Combine(_folder, "absent");
        var e = Assert.Throws<ClusterTokenException>(() => ClusterToken.ReadFile(path));
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_in_the_environment_is_used_when_no_file_is_given()
    {
        var token = ClusterToken.Generate();
        var before = Environment.GetEnvironmentVariable(ClusterToken.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, token.ToHex());
            Assert.Equal(token.ToHex(), ClusterToken.Resolve(null)!.ToHex());
            Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, "not a token");
            Assert.Throws<ClusterTokenException>(() => ClusterToken.Resolve(null));
            Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, null);
            Assert.Null(ClusterToken.Resolve(null));
        }
        finally
        {
            Environment.SetEnvironmentVariable(ClusterToken.EnvironmentVariable, before);
        }
    }

    private static void Chown(string path, string owner)
    {
        using var chown = Process.Start("chown", [owner, path]);
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
