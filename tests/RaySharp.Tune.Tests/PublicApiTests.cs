using System.Reflection;

namespace RaySharp.Tune.Tests;

public sealed class PublicApiTests
{
    private static readonly string SnapshotPath = Path.Combine(RepositoryRoot(), "src", "RaySharp.Tune", "PublicAPI.txt");

    [Fact]
    public void The_public_api_matches_its_checked_in_snapshot()
    {
        var actual = string.Join('\n', Describe(typeof(Tuner).Assembly)) + "\n";
        var expected = File.Exists(SnapshotPath) ? File.ReadAllText(SnapshotPath).ReplaceLineEndings("\n") : "";
        if (actual != expected)
        {
            var proposed = SnapshotPath + ".new";
            File.WriteAllText(proposed, actual);
            Assert.Fail($"The public API of RaySharp.Tune changed. Review {proposed} and, if intended, move it over {SnapshotPath}.");
        }
    }

    private static IEnumerable<string> Describe(Assembly assembly)
    {
        const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            yield return $"{Kind(type)} {type.FullName}";
            var members = type.GetMembers(Flags)
                .Where(m => m is not MethodInfo { IsSpecialName: true })
                .Select(m => "  " + m switch
                {
                    MethodInfo mi => $"{(mi.IsStatic ? "static " : "")}{Name(mi.ReturnType)} {mi.Name}{Generic(mi)}({Parameters(mi)})",
                    ConstructorInfo ci => $"ctor({Parameters(ci)})",
                    PropertyInfo pi => $"{Name(pi.PropertyType)} {pi.Name} {{ {(pi.GetMethod?.IsPublic == true ? "get; " : "")}{(pi.SetMethod?.IsPublic == true ? "set; " : "")}}}",
                    FieldInfo fi => $"{(fi.IsLiteral ? "const " : fi.IsStatic ? "static " : "")}{Name(fi.FieldType)} {fi.Name}",
                    EventInfo ei => $"event {Name(ei.EventHandlerType!)} {ei.Name}",
                    Type nested => $"nested {nested.Name}",
                    _ => m.ToString()!,
                })
                .Order(StringComparer.Ordinal);
            foreach (var member in members)
                yield return member;
        }
    }

    private static string Kind(Type t) => t switch
    {
        { IsInterface: true } => "interface",
        { IsEnum: true } => "enum",
        { IsValueType: true } => "struct",
        { BaseType: { } b } when b == typeof(MulticastDelegate) => "delegate",
        { IsAbstract: true, IsSealed: true } => "static class",
        { IsAbstract: true } => "abstract class",
        { IsSealed: true } => "sealed class",
        _ => "class",
    };

    private static string Generic(MethodInfo m) =>
        m.IsGenericMethodDefinition ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";

    private static string Parameters(MethodBase m) =>
        string.Join(", ", m.GetParameters().Select(p => $"{Name(p.ParameterType)} {p.Name}{(p.HasDefaultValue ? " = " + (p.DefaultValue ?? "null") : "")}"));

    private static string Name(Type t)
    {
        if (t.IsGenericParameter)
            return t.Name;
        if (t.IsByRef)
            return Name(t.GetElementType()!) + "&";
        if (t.IsArray)
            return Name(t.GetElementType()!) + "[]";
        if (!t.IsGenericType)
            return t.Name;
        var name = t.Name[..t.Name.IndexOf('`', StringComparison.Ordinal)];
        return $"{name}<{string.Join(", ", t.GetGenericArguments().Select(Name))}>";
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RaySharp.slnx")))
                return dir.FullName;
        }
        throw new DirectoryNotFoundException($"No RaySharp.slnx above {AppContext.BaseDirectory}.");
    }
}
