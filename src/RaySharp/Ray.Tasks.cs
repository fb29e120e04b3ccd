// The typed overloads of Ray.Task: one per arity (0–4 arguments) and per kind of each argument — a
// value of the parameter's type, an ObjectRef of it (resolved before the function runs), and, for
// arities up to 2, an array of ObjectRefs gathered into an array parameter, or objectRef.AsMemory() read in
// place by a ReadOnlyMemory<E> parameter (no copy when the array lives in the shared-memory store).
// Written out so the C# compiler infers every type from the method group and the arguments, and
// checks them.

namespace RaySharp;

public sealed partial class Ray
{
    /// <summary>Prepares a remote call of a static method or capture-free lambda (no arguments); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<TR>(Func<TR> function) => new(this, function, []);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (no arguments); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<TR>(Func<System.Threading.Tasks.Task<TR>> function) => new(this, function, []);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<T1, TR> function, T1 arg1) => new(this, function, [TaskArgs.Value(arg1, function, 0)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<T1, System.Threading.Tasks.Task<TR>> function, T1 arg1) => new(this, function, [TaskArgs.Value(arg1, function, 0)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<T1, TR> function, ObjectRef<T1> arg1) => new(this, function, [TaskArgs.Ref(arg1, 0)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<T1, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1) => new(this, function, [TaskArgs.Ref(arg1, 0)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<T1[], TR> function, ObjectRef<T1>[] arg1) => new(this, function, [TaskArgs.Gather(arg1, 0)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<T1[], System.Threading.Tasks.Task<TR>> function, ObjectRef<T1>[] arg1) => new(this, function, [TaskArgs.Gather(arg1, 0)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<ReadOnlyMemory<T1>, TR> function, MemoryRef<T1> arg1) => new(this, function, [TaskArgs.Ref(arg1, 0)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, TR>(Func<ReadOnlyMemory<T1>, System.Threading.Tasks.Task<TR>> function, MemoryRef<T1> arg1) => new(this, function, [TaskArgs.Ref(arg1, 0)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, TR> function, T1 arg1, T2 arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, TR> function, T1 arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2[], TR> function, T1 arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2[], System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, ReadOnlyMemory<T2>, TR> function, T1 arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, ReadOnlyMemory<T2>, System.Threading.Tasks.Task<TR>> function, T1 arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, TR> function, ObjectRef<T1> arg1, T2 arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2[], TR> function, ObjectRef<T1> arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, T2[], System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, ReadOnlyMemory<T2>, TR> function, ObjectRef<T1> arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1, ReadOnlyMemory<T2>, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], T2, TR> function, ObjectRef<T1>[] arg1, T2 arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], T2, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1>[] arg1, T2 arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], T2, TR> function, ObjectRef<T1>[] arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], T2, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1>[] arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], T2[], TR> function, ObjectRef<T1>[] arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], T2[], System.Threading.Tasks.Task<TR>> function, ObjectRef<T1>[] arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], ReadOnlyMemory<T2>, TR> function, ObjectRef<T1>[] arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: ObjectRefs gathered into the array parameter; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<T1[], ReadOnlyMemory<T2>, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1>[] arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Gather(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, T2, TR> function, MemoryRef<T1> arg1, T2 arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, T2, System.Threading.Tasks.Task<TR>> function, MemoryRef<T1> arg1, T2 arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, T2, TR> function, MemoryRef<T1> arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, T2, System.Threading.Tasks.Task<TR>> function, MemoryRef<T1> arg1, ObjectRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, T2[], TR> function, MemoryRef<T1> arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: ObjectRefs gathered into the array parameter); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, T2[], System.Threading.Tasks.Task<TR>> function, MemoryRef<T1> arg1, ObjectRef<T2>[] arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Gather(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, ReadOnlyMemory<T2>, TR> function, MemoryRef<T1> arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory; argument 2: a MemoryRef (objectRef.AsMemory()), read in place as ReadOnlyMemory); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, TR>(Func<ReadOnlyMemory<T1>, ReadOnlyMemory<T2>, System.Threading.Tasks.Task<TR>> function, MemoryRef<T1> arg1, MemoryRef<T2> arg2) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, T1 arg1, T2 arg2, T3 arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2, T3 arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, T1 arg1, T2 arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, T1 arg1, ObjectRef<T2> arg2, T3 arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2, T3 arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, T1 arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, ObjectRef<T1> arg1, T2 arg2, T3 arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2, T3 arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, ObjectRef<T1> arg1, T2 arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, T3 arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, T3 arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, TR>(Func<T1, T2, T3, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, T2 arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, T2 arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, T2 arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, T2 arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, T2 arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, ObjectRef<T2> arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, ObjectRef<T2> arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, T1 arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: a value; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, T1 arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Value(arg1, function, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, T2 arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, T2 arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, T2 arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, T2 arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: a value; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, T2 arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Value(arg2, function, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, T3 arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: a value; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, T3 arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Value(arg3, function, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: a value); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, T4 arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Value(arg4, function, 3)]);

    /// <summary>Prepares a remote call of a static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, TR> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

    /// <summary>Prepares a remote call of a Task-returning static method or capture-free lambda (argument 1: an ObjectRef resolved to its value first; argument 2: an ObjectRef resolved to its value first; argument 3: an ObjectRef resolved to its value first; argument 4: an ObjectRef resolved to its value first); call <c>Remote()</c> on the result to submit it.</summary>
    public TaskCall<TR> Task<T1, T2, T3, T4, TR>(Func<T1, T2, T3, T4, System.Threading.Tasks.Task<TR>> function, ObjectRef<T1> arg1, ObjectRef<T2> arg2, ObjectRef<T3> arg3, ObjectRef<T4> arg4) => new(this, function, [TaskArgs.Ref(arg1, 0), TaskArgs.Ref(arg2, 1), TaskArgs.Ref(arg3, 2), TaskArgs.Ref(arg4, 3)]);

}
