using System.Reflection;
using System.Runtime.CompilerServices;

namespace RaySharp.ObjectStore.Tests;

/// <summary>
/// The runtime builds on this library's public API; a change to it must show in review as a diff of
/// <c>PublicApi.txt</c>, not slip in unnoticed.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void Public_api_matches_the_checked_in_snapshot()
    {
        var expectedPath = Path.Combine(SourceDirectory(), "PublicApi.txt");
        var actual = string.Join('\n', Describe(typeof(SharedMemoryObjectStore<>).Assembly)) + "\n";

        if (File.Exists(expectedPath) && File.ReadAllText(expectedPath) == actual)
            return;
        var actualPath = Path.Combine(AppContext.BaseDirectory, "PublicApi.actual.txt");
        File.WriteAllText(actualPath, actual);
        Assert.Fail($"The public API of RaySharp.ObjectStore changed. If that is intended, copy {actualPath} over {expectedPath} and review the diff.");
    }

    private static IEnumerable<string> Describe(Assembly assembly)
    {
        const BindingFlags members = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            var bases = new[] { type.BaseType }.Where(b => b is not null && b != typeof(object) && b != typeof(ValueType) && b != typeof(Enum))
                .Concat(type.GetInterfaces().Where(i => i.IsPublic).OrderBy(i => i.FullName, StringComparer.Ordinal)).Select(t => t!.ToString());
            yield return $"{Kind(type)} {type}" + (bases.Any() ? " : " + string.Join(", ", bases) : "");
            foreach (var member in type.GetMembers(members)
                         .Where(m => m is not MethodInfo { IsSpecialName: true } && m.GetCustomAttribute<CompilerGeneratedAttribute>() is null)
                         .Select(m => "  " + m.MemberType + " " + m)
                         .Order(StringComparer.Ordinal))
                yield return member;
        }
    }

    private static string Kind(Type type) => type switch
    {
        { IsInterface: true } => "interface",
        { IsEnum: true } => "enum",
        { IsValueType: true } => "struct",
        { IsSealed: true } => "sealed class",
        _ => "class",
    };

    private static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
