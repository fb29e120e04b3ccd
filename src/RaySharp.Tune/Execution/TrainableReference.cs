using System.Reflection;

namespace RaySharp.Tune;

/// <summary>
/// Names a trainable (a <see cref="TrainableFunction"/> or a <c>Func&lt;Trainable&gt;</c> factory) by its
/// method's assembly, module and metadata token, so a worker process of the RaySharp runtime, which runs the
/// driver's application folder, can load the same method. Only static methods and lambdas that capture
/// nothing can be named this way: a closure's captured state lives in the driver process.
/// </summary>
internal sealed record TrainableReference(string Assembly, string Module, int Token, bool IsClassFactory)
{
    public static TrainableReference Of(Delegate trainable, bool isClassFactory)
    {
        ArgumentNullException.ThrowIfNull(trainable);
        var method = trainable.Method;
        var what = isClassFactory ? "trainable factory" : "trainable";
        if (trainable.GetInvocationList().Length != 1)
            throw new ArgumentException($"The {what} is a multicast delegate; pass a single method to run trials on the RaySharp runtime.");
        if (trainable.Target is not null && !ReferenceEquals(trainable.Target, StaticClosure(method.DeclaringType)))
        {
            throw new ArgumentException(
                $"The {what} '{method.Name}' captures state of this process ({trainable.Target.GetType().Name}), which worker processes cannot see. " +
                "To run trials on the RaySharp runtime (TuneOptions.Ray) pass a static method or a lambda that captures nothing, and put what it needs in the search space (constants are allowed there).");
        }
        if (method.IsGenericMethod || method.DeclaringType?.ContainsGenericParameters == true)
            throw new ArgumentException($"The {what} '{method.Name}' is generic; pass a non-generic static method to run trials on the RaySharp runtime.");
        return new TrainableReference(
            method.Module.Assembly.FullName ?? method.Module.Assembly.GetName().Name!,
            method.Module.Name,
            method.MetadataToken,
            isClassFactory);
    }

    /// <summary>Loads the method in this process and binds it as the trainable function to run.</summary>
    public TrainableFunction Resolve(out Action cleanup)
    {
        var assembly = System.Reflection.Assembly.Load(new AssemblyName(Assembly));
        var module = assembly.GetModules().FirstOrDefault(m => m.Name == Module) ?? assembly.ManifestModule;
        var method = module.ResolveMethod(Token) as MethodInfo
            ?? throw new InvalidOperationException($"Metadata token {Token:x8} in {Assembly} is not a method; the worker runs a different build than the driver.");
        var target = method.IsStatic ? null : StaticClosure(method.DeclaringType)
            ?? throw new InvalidOperationException($"{method.DeclaringType?.Name}.{method.Name} is an instance method; trainables on the runtime must be static.");
        if (!IsClassFactory)
        {
            cleanup = static () => { };
            return method.CreateDelegate<TrainableFunction>(target);
        }
        var runner = new ClassTrainableRunner(method.CreateDelegate<Func<Trainable>>(target));
        cleanup = runner.CleanupIdle;
        return runner.RunAsync;
    }

    /// <summary>The compiler's singleton instance that holds non-capturing lambdas (<c>&lt;&gt;9</c>), if any.</summary>
    private static object? StaticClosure(Type? type) =>
        type?.GetField("<>9", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(null);
}
