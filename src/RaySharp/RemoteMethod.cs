using System.Reflection;
using System.Runtime.CompilerServices;
using MessagePack;

namespace RaySharp;

/// <summary>
/// Names a static method — or a lambda that captures nothing — so that another process running the same
/// assemblies (a worker of the job) can load and call it: the way the runtime names remote functions,
/// for libraries that pass a user's method to their own actors (Tune passes a trainable to its trial
/// actors this way). A <see cref="RemoteMethod"/> is a plain value: pass it as a task or actor argument.
/// </summary>
/// <example>
/// <code>
/// // driver: validate and name the user's function once
/// var step = RemoteMethod.Of(new Func&lt;double, double&gt;(Model.Step));
/// var runner = ray.Actor(() =&gt; new Runner(step)).Remote();
///
/// // inside the actor (a worker process): load it back
/// sealed class Runner(RemoteMethod step)
/// {
///     private readonly Func&lt;double, double&gt; _step = step.CreateDelegate&lt;Func&lt;double, double&gt;&gt;();
///     public double Run(double x) =&gt; _step(x);
/// }
/// </code>
/// </example>
[MessagePackObject]
public sealed class RemoteMethod : IEquatable<RemoteMethod>
{
    [SerializationConstructor]
    internal RemoteMethod(string assembly, string module, int token, string name)
    {
        Assembly = assembly;
        Module = module;
        Token = token;
        Name = name;
    }

    /// <summary>The assembly's full name.</summary>
    [Key(0)]
    internal string Assembly { get; }

    /// <summary>The module within the assembly.</summary>
    [Key(1)]
    internal string Module { get; }

    /// <summary>The method's metadata token in that module.</summary>
    [Key(2)]
    internal int Token { get; }

    /// <summary>A readable name for messages and listings: <c>Type.Method</c> (<c>Type.lambda</c> for a lambda).</summary>
    [Key(3)]
    public string Name { get; }

    /// <summary>Names the method behind <paramref name="function"/>.</summary>
    /// <param name="function">A static method group or a lambda that captures nothing (no variables, no <c>this</c>).</param>
    /// <exception cref="ArgumentException">
    /// The delegate is multicast, bound to an object or a closure (its state lives only in this process), or generic.
    /// </exception>
    public static RemoteMethod Of(Delegate function) => Of(Validate(function));

    /// <summary>Names a static method.</summary>
    /// <param name="method">A static, non-generic (or closed generic) method.</param>
    /// <exception cref="ArgumentException">The method is an instance method or an open generic.</exception>
    public static RemoteMethod Of(MethodInfo method)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (!method.IsStatic && StaticClosure(method.DeclaringType) is null)
            throw new ArgumentException($"'{DisplayName(method)}' is an instance method; name a static method (or a lambda that captures nothing).", nameof(method));
        if (method.ContainsGenericParameters)
            throw new ArgumentException($"'{DisplayName(method)}' is an open generic method; close it (MakeGenericMethod) or pass a non-generic method.", nameof(method));
        return Of((MethodBase)method);
    }

    internal static RemoteMethod Of(MethodBase method) => new(
        method.Module.Assembly.FullName ?? method.Module.Assembly.GetName().Name!,
        method.Module.Name,
        method.MetadataToken,
        DisplayName(method));

    /// <summary>Loads the method in this process (which must run the same build of its assembly).</summary>
    /// <exception cref="InvalidOperationException">The assembly cannot be loaded here, or the token is not a method of it (a different build).</exception>
    public MethodInfo Resolve() => Load() as MethodInfo
        ?? throw new InvalidOperationException($"'{Name}' names a constructor, not a method.");

    /// <summary>Loads the method and binds it as <typeparamref name="TDelegate"/> (a lambda to the compiler's instance that holds it).</summary>
    /// <exception cref="InvalidOperationException">The method cannot be loaded here.</exception>
    /// <exception cref="ArgumentException">Its signature does not fit <typeparamref name="TDelegate"/>.</exception>
    public TDelegate CreateDelegate<TDelegate>()
        where TDelegate : Delegate
    {
        var method = Resolve();
        try
        {
            return method.CreateDelegate<TDelegate>(method.IsStatic ? null : StaticClosure(method.DeclaringType));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"'{Name}' ({method}) cannot be called as a {typeof(TDelegate).Name}: {e.Message}", e);
        }
    }

    /// <summary>Loads the method or constructor named by assembly, module and token, with messages that say what went wrong.</summary>
    internal MethodBase Load()
    {
        System.Reflection.Assembly assembly;
        try
        {
            assembly = System.Reflection.Assembly.Load(new AssemblyName(Assembly));
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new InvalidOperationException(
                $"This process cannot load assembly '{Assembly}' for '{Name}': {e.Message}. Workers run the driver's " +
                "application folder; start the driver from its build output (dotnet run / dotnet exec).", e);
        }
        var module = assembly.GetModules().FirstOrDefault(m => m.Name == Module) ?? assembly.ManifestModule;
        try
        {
            return module.ResolveMethod(Token)
                ?? throw new InvalidOperationException($"Method token {Token:x8} of '{Name}' is not in {Assembly}.");
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Method token {Token:x8} of '{Name}' is not a method of {Assembly}: this process runs a different build than the one that named it.", e);
        }
    }

    /// <summary>The method of a delegate that can run in another process, or an <see cref="ArgumentException"/> saying why not.</summary>
    internal static MethodInfo Validate(Delegate function)
    {
        ArgumentNullException.ThrowIfNull(function);
        var method = function.Method;
        if (function.HasSingleTarget is false)
            throw new ArgumentException($"'{DisplayName(method)}' is a multicast delegate; pass a single method.", nameof(function));
        if (function.Target is not null && !ReferenceEquals(function.Target, StaticClosure(method.DeclaringType)))
        {
            throw new ArgumentException(
                $"'{DisplayName(method)}' captures state of this process ({function.Target.GetType().Name}: a bound object or captured variables), " +
                "which other processes cannot see. Pass a static method (or a lambda that captures nothing) and give it the data as arguments.",
                nameof(function));
        }
        if (method.ContainsGenericParameters || method.DeclaringType?.ContainsGenericParameters == true)
            throw new ArgumentException($"'{DisplayName(method)}' is an open generic method; remote methods must be closed.", nameof(function));
        return method;
    }

    /// <summary>The singleton instance the compiler uses as the target of capture-free lambdas, or null.</summary>
    internal static object? StaticClosure(Type? type)
    {
        if (type is null || !type.IsDefined(typeof(CompilerGeneratedAttribute)))
            return null;
        var field = type.GetField("<>9", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic);
        return field?.GetValue(null);
    }

    internal static string DisplayName(MethodBase m)
    {
        var type = m.DeclaringType;
        while (type is not null && type.IsDefined(typeof(CompilerGeneratedAttribute)))
            type = type.DeclaringType;
        var name = m.Name.StartsWith('<') ? "lambda" : m.Name;
        return m is ConstructorInfo ? $"new {type?.Name}" : $"{type?.Name}.{name}";
    }

    /// <inheritdoc/>
    public bool Equals(RemoteMethod? other) =>
        other is not null && Token == other.Token && Module == other.Module && Assembly == other.Assembly;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RemoteMethod);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Assembly, Module, Token);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
