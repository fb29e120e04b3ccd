using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using RaySharp.Protocol;

namespace RaySharp.Runtime;

/// <summary>
/// Names the job's methods across processes (assembly + module + metadata token: the worker runs the
/// same assemblies) and invokes them through invokers built once per method
/// (<see cref="MethodInvoker"/>, <see cref="ConstructorInvoker"/>): no reflection lookup per call.
/// </summary>
internal static class Functions
{
    private static readonly ConcurrentDictionary<MethodBase, FunctionRef> Refs = new();
    private static readonly ConcurrentDictionary<(string Assembly, string Module, int Token), Invocable> Resolved = new();
    private static readonly ConcurrentDictionary<MethodBase, ParameterInfo[]> ParameterCache = new();

    private static ParameterInfo[] ParametersOf(MethodBase m) => ParameterCache.GetOrAdd(m, static m => m.GetParameters());

    /// <summary>Describes a delegate to a static method or to a lambda that captures nothing (validated by <see cref="RemoteMethod"/>).</summary>
    public static FunctionRef Describe(Delegate function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Refs.TryGetValue(function.Method, out var known) ? known : Describe(RemoteMethod.Validate(function));
    }

    public static FunctionRef Describe(MethodBase method) => Refs.GetOrAdd(method, static m =>
    {
        var named = RemoteMethod.Of(m);
        return new FunctionRef { Assembly = named.Assembly, Module = named.Module, Token = named.Token, Name = named.Name };
    });

    public static string DisplayName(MethodBase m) => RemoteMethod.DisplayName(m);

    public static Invocable Resolve(FunctionRef function) => Resolved.GetOrAdd((function.Assembly, function.Module, function.Token), static (key, f) =>
    {
        var method = new RemoteMethod(key.Assembly, key.Module, key.Token, f.Name).Load();
        return new Invocable(method, method.IsStatic ? null : RemoteMethod.StaticClosure(method.DeclaringType));
    }, function);

    /// <summary>Reads an actor call <c>c =&gt; c.Method(args)</c>: the method and the argument values.</summary>
    public static (FunctionRef Function, ArgSpec[] Args) DescribeCall(LambdaExpression call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var body = call.Body is UnaryExpression { NodeType: ExpressionType.Convert } convert ? convert.Operand : call.Body;
        if (body is not MethodCallExpression invocation || Unwrap(invocation.Object) != call.Parameters[0])
        {
            throw new ArgumentException(
                $"An actor call must be a single method call on the actor, like 'c => c.Add(5)'; '{call}' is not.", nameof(call));
        }
        return (Describe(invocation.Method), Arguments(ParametersOf(invocation.Method), invocation.Arguments, call.Parameters[0], invocation.Method.Name));
    }

    /// <summary>Reads an actor constructor <c>() =&gt; new Counter(args)</c>.</summary>
    public static (FunctionRef Function, ArgSpec[] Args, Type Type) DescribeConstructor(LambdaExpression create)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (create.Body is not NewExpression { Constructor: { } ctor } construct)
        {
            throw new ArgumentException(
                $"An actor is created from a constructor call, like '() => new Counter(10)'; '{create}' is not one.", nameof(create));
        }
        return (Describe(ctor), Arguments(ctor.GetParameters(), construct.Arguments, null, "new " + ctor.DeclaringType!.Name), ctor.DeclaringType!);
    }

    private static Expression? Unwrap(Expression? e) => e is UnaryExpression { NodeType: ExpressionType.Convert } u ? u.Operand : e;

    private static ArgSpec[] Arguments(ParameterInfo[] parameters, IReadOnlyList<Expression> args, ParameterExpression? self, string what)
    {
        var specs = new ArgSpec[args.Count];
        for (var i = 0; i < args.Count; i++)
        {
            var value = Evaluate(args[i], self, what);
            if (value is ObjectRef objectRef)
                TaskArgs.RefuseUntypedRef(objectRef, parameters[i], what);
            var inline = RaySerializer.Serialize(parameters[i].ParameterType, value, $"Argument '{parameters[i].Name}' of {what}", out var refs);
            specs[i] = new ArgSpec { Inline = inline, Contained = ContainedRefs.Ids(refs), ContainedRefs = refs };
        }
        return specs;
    }

    /// <summary>Evaluates an argument expression: constants and captured variables directly, anything else interpreted.</summary>
    private static object? Evaluate(Expression e, ParameterExpression? self, string what)
    {
        switch (e)
        {
            case ConstantExpression c:
                return c.Value;
            case MemberExpression { Member: FieldInfo field, Expression: null }:
                return field.GetValue(null);
            case MemberExpression { Member: FieldInfo field, Expression: ConstantExpression closure }:
                return field.GetValue(closure.Value);
            case MemberExpression { Member: PropertyInfo property, Expression: ConstantExpression owner }:
                return property.GetValue(owner.Value);
        }
        if (self is not null && new ParameterFinder(self).Finds(e))
        {
            throw new ArgumentException(
                $"An argument of {what} reads the actor itself ('{e}'); arguments are evaluated by the caller before the call is sent.");
        }
        return Expression.Lambda<Func<object?>>(Expression.Convert(e, typeof(object))).Compile(preferInterpretation: true)();
    }

    private sealed class ParameterFinder(ParameterExpression parameter) : ExpressionVisitor
    {
        private bool _found;

        public bool Finds(Expression e)
        {
            Visit(e);
            return _found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found |= node == parameter;
            return node;
        }
    }
}

/// <summary>A resolved method or constructor with its invoker and how to encode its result.</summary>
internal sealed class Invocable
{
    private static readonly byte[] Nil = [0xc0];
    private readonly MethodInvoker? _method;
    private readonly ConstructorInvoker? _constructor;
    private readonly object? _staticTarget;
    private readonly Func<Task, object?>? _taskResult;
    private readonly bool _returnsTask;
    private readonly bool _returnsVoid;

    public Invocable(MethodBase method, object? staticTarget)
    {
        Method = method;
        Name = Functions.DisplayName(method);
        _staticTarget = staticTarget;
        Parameters = method.GetParameters().Select(p => p.ParameterType).ToArray();
        if (method is ConstructorInfo ctor)
        {
            _constructor = ConstructorInvoker.Create(ctor);
            ResultType = ctor.DeclaringType!;
            return;
        }
        var info = (MethodInfo)method;
        _method = MethodInvoker.Create(info);
        var returns = info.ReturnType;
        if (returns == typeof(void))
        {
            _returnsVoid = true;
            ResultType = typeof(void);
        }
        else if (returns == typeof(Task))
        {
            _returnsTask = true;
            _returnsVoid = true;
            ResultType = typeof(void);
        }
        else if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>))
        {
            _returnsTask = true;
            ResultType = returns.GetGenericArguments()[0];
            _taskResult = typeof(Invocable).GetMethod(nameof(ResultOf), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(ResultType).CreateDelegate<Func<Task, object?>>();
        }
        else
        {
            ResultType = returns;
        }
    }

    public MethodBase Method { get; }

    public string Name { get; }

    public Type[] Parameters { get; }

    public Type ResultType { get; }

    private static object? ResultOf<T>(Task task) => ((Task<T>)task).Result;

    /// <summary>
    /// Decodes the arguments: inline values directly, store objects through <paramref name="store"/>
    /// (a <c>ReadOnlyMemory&lt;E&gt;</c> parameter gets the raw array in place; its view stays open in
    /// <paramref name="views"/> until the call is over).
    /// </summary>
    public async ValueTask<object?[]> DecodeArgumentsAsync(Execute work, RaySharp.ObjectStore.ObjectStoreClient<ObjectId> store, List<IDisposable> views)
    {
        var values = work.ArgValues;
        if (values.Length != Parameters.Length)
            throw new InvalidOperationException($"{Name} takes {Parameters.Length} arguments but the call carried {values.Length}.");
        var args = new object?[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is { } inline)
            {
                args[i] = ObjectValues.DecodeInline(Parameters[i], inline);
                continue;
            }
            var view = await store.GetAsync(work.StoreArgs![i]).ConfigureAwait(false);
            var inPlace = ObjectValues.View(Parameters[i], view);
            if (inPlace is not null)
            {
                views.Add(view);
                args[i] = inPlace;
                continue;
            }
            using (view)
                args[i] = ObjectValues.Decode(Parameters[i], view);
        }
        return args;
    }

    /// <summary>Creates an actor instance.</summary>
    public object Construct(object?[] args) => _constructor!.Invoke(args.AsSpan())!;

    /// <summary>Runs the method and returns its result (awaiting Task-returning methods).</summary>
    public async ValueTask<object?> InvokeAsync(object? target, object?[] args)
    {
        var result = _method!.Invoke(target ?? _staticTarget, args.AsSpan());
        if (_returnsTask)
        {
            var task = (Task)result!;
            await task.ConfigureAwait(false);
            return _returnsVoid ? null : _taskResult!(task);
        }
        return _returnsVoid ? null : result;
    }

    /// <summary>Encodes a result of this method: inline bytes, or a value to write to the store.</summary>
    public ObjectValues.Encoded Encode(object? result) =>
        _returnsVoid ? new ObjectValues.Encoded(Nil, null, 0) : ObjectValues.Encode(ResultType, result, $"The result of {Name}");

    /// <summary>True when the method returns a Task (so concurrent actor calls interleave at awaits).</summary>
    public bool IsAsync => _returnsTask;
}
