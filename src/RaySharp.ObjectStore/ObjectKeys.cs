using System.Globalization;

namespace RaySharp.ObjectStore;

/// <summary>Turns keys into the file names of spilled objects.</summary>
internal static class ObjectKeys
{
    private const int MaxLength = 200;

    public static string FileName<TKey>(TKey key)
        where TKey : unmanaged, IEquatable<TKey>, ISpanFormattable
    {
        Span<char> buffer = stackalloc char[MaxLength];
        if (!key.TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture))
            throw new ArgumentException(
                $"The key of type {typeof(TKey).Name} formats to more than {MaxLength} characters; object keys name spill files, so keep their text short (a hex id).", nameof(key));
        var text = buffer[..written];
        ValidateName(text, $"The key '{text}' of type {typeof(TKey).Name}", nameof(key));
        return new string(text);
    }

    public static void ValidateName(ReadOnlySpan<char> text, string what, string parameter)
    {
        if (text.IsEmpty || text is "." or "..")
            throw new ArgumentException($"{what} is empty or '.'/'..'; it names a file, so it needs letters or digits.", parameter);
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw new ArgumentException(
                    $"{what} contains '{c}'; it names a file, so only ASCII letters, digits, '-', '_' and '.' are allowed.", parameter);
        }
    }
}
