using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RaySharp.Security;

/// <summary>
/// The cluster's shared secret: 32 random bytes that every process of one cluster holds and proves it holds
/// (<see cref="TokenHandshake"/>) without ever sending it. Kept in a file readable by its owner only (mode
/// 0600) or passed in the <see cref="EnvironmentVariable"/>; written as 64 hexadecimal digits.
/// </summary>
/// <example>
/// <code>
/// var token = ClusterToken.CreateFile("/run/user/1000/raysharp/token");   // once, by whoever starts the cluster
/// var same = ClusterToken.ReadFile("/run/user/1000/raysharp/token");      // every other process
/// </code>
/// </example>
public sealed class ClusterToken
{
    /// <summary>Bytes of secret (32: the HMAC-SHA256 key size).</summary>
    public const int SecretBytes = 32;

    /// <summary>The environment variable a token may be passed in, as 64 hexadecimal digits:
    /// <c>RAYSHARP_CLUSTER_TOKEN</c>. A file is safer (the environment of a process can be read by the same user
    /// and is inherited by every child).</summary>
    public const string EnvironmentVariable = "RAYSHARP_CLUSTER_TOKEN";

    private readonly byte[] _secret;

    private ClusterToken(byte[] secret) => _secret = secret;

    /// <summary>The secret, for the handshake's HMAC.</summary>
    internal ReadOnlySpan<byte> Secret => _secret;

    /// <summary>A new token from the operating system's cryptographic random source.</summary>
    public static ClusterToken Generate() => new(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>Reads a token from its text form (64 hexadecimal digits; surrounding white space is ignored).</summary>
    /// <exception cref="ClusterTokenException">The text is not 64 hexadecimal digits.</exception>
    public static ClusterToken Parse(string text, string source = "the token text")
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (trimmed.Length != SecretBytes * 2 || !trimmed.All(char.IsAsciiHexDigit))
        {
            throw new ClusterTokenException($"{source} does not hold a cluster token: expected {SecretBytes * 2} hexadecimal digits, " +
                $"found {trimmed.Length} characters. Use the file the cluster's first process wrote (see docs/security.md).");
        }
        return new ClusterToken(Convert.FromHexString(trimmed));
    }

    /// <summary>The token's text form (64 lowercase hexadecimal digits): for a file or the environment, never a log.</summary>
    public string ToHex() => Convert.ToHexStringLower(_secret);

    /// <summary>Never shows the secret.</summary>
    public override string ToString() => "ClusterToken(hidden)";

    /// <summary>
    /// Makes a new token and writes it to <paramref name="path"/>, created with mode 0600 (owner read and write
    /// only; the folder is created 0700 if missing). Refuses to overwrite an existing file.
    /// </summary>
    /// <exception cref="ClusterTokenException">The file exists or cannot be written.</exception>
    public static ClusterToken CreateFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var token = Generate();
        try
        {
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null && !Directory.Exists(folder))
            {
                if (OperatingSystem.IsWindows())
                    Directory.CreateDirectory(folder);
                else
                    Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var file = new FileStream(path, options);
            file.Write(Encoding.ASCII.GetBytes(token.ToHex() + "\n"));
            file.Flush(flushToDisk: true);
        }
        catch (IOException e) when (File.Exists(path))
        {
            throw new ClusterTokenException($"Cannot create the cluster token file {path}: it already exists. Read it with ReadFile, or remove it to make a new token.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterTokenException($"Cannot create the cluster token file {path}: {e.Message}", e);
        }
        return token;
    }

    /// <summary>
    /// Reads the token in <paramref name="path"/>. On Unix the file must be a regular file owned by the user running
    /// this process and readable by nobody else (no group or other permission bits: mode 0600 or 0400); anything
    /// else is refused, since anyone who can read the token can act as the cluster.
    /// </summary>
    /// <exception cref="ClusterTokenException">The file is missing, too open, owned by someone else, or malformed.</exception>
    public static ClusterToken ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (!OperatingSystem.IsWindows())
                CheckPrivate(path, file);
            if (file.Length > 4096)
                throw new ClusterTokenException($"The cluster token file {path} is {file.Length} bytes; a token file holds 64 hexadecimal digits.");
            using var reader = new StreamReader(file, Encoding.ASCII);
            text = reader.ReadToEnd();
        }
        catch (FileNotFoundException e)
        {
            throw new ClusterTokenException($"The cluster token file {path} does not exist. Pass the file the cluster's first process wrote.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ClusterTokenException($"Cannot read the cluster token file {path}: {e.Message}", e);
        }
        return Parse(text, $"The file {path}");
    }

    /// <summary>The token in <see cref="EnvironmentVariable"/>, or null when it is not set.</summary>
    /// <exception cref="ClusterTokenException">The variable is set but does not hold a token.</exception>
    public static ClusterToken? FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(text) ? null : Parse(text, $"The environment variable {EnvironmentVariable}");
    }

    /// <summary>
    /// The token a process was given: read from <paramref name="path"/> when one is given, else from
    /// <see cref="EnvironmentVariable"/>, else null (no token: connections are not authenticated).
    /// </summary>
    public static ClusterToken? Resolve(string? path) => path is not null ? ReadFile(path) : FromEnvironment();

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static void CheckPrivate(string path, FileStream file)
    {
        var (kind, mode, owner) = UnixFileStatus.Of(file.SafeFileHandle, path);
        if (kind != UnixFileStatus.RegularFile)
            throw new ClusterTokenException($"The cluster token file {path} is not a regular file. Pass the file the cluster's first process wrote.");
        var me = UnixFileStatus.EffectiveUserId();
        if (owner != me)
        {
            throw new ClusterTokenException($"The cluster token file {path} belongs to user id {owner.ToString(CultureInfo.InvariantCulture)}, " +
                $"not to this process's user ({me.ToString(CultureInfo.InvariantCulture)}); refusing a secret someone else controls. " +
                "Use a token file of your own (chown it, or make a new one).");
        }
        if ((mode & 0b111_111) != 0)
        {
            throw new ClusterTokenException($"The cluster token file {path} has mode {Convert.ToString(mode & 0x1FF, 8)}: other users can read or change it. " +
                $"Run `chmod 600 {path}` (and consider the token leaked if others could read it: make a new one).");
        }
    }
}
