using System.Globalization;

namespace RaySharp.ObjectStore.Tests;

/// <summary>A fixed-size key like the runtime's ObjectId: formats as "obj-" and 16 hex digits.</summary>
public readonly record struct TestKey(long Value) : ISpanFormattable
{
    public string ToString(string? format, IFormatProvider? formatProvider) => $"obj-{Value:x16}";

    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(CultureInfo.InvariantCulture, $"obj-{Value:x16}", out charsWritten);

    public static TestKey Parse(string text) => new(long.Parse(text.AsSpan(4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
}

/// <summary>A key whose text cannot name a file.</summary>
public readonly record struct SlashKey(int Value) : ISpanFormattable
{
    public string ToString(string? format, IFormatProvider? formatProvider) => $"a/{Value}";

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(CultureInfo.InvariantCulture, $"a/{Value}", out charsWritten);
}
