namespace RaySharp.Tune;

/// <summary>
/// A trainable (a <see cref="TrainableFunction"/> or a <c>Func&lt;Trainable&gt;</c> factory) named with the
/// core's <see cref="RemoteMethod"/>, so a trial actor in a worker process can load the same method. Only
/// static methods and lambdas that capture nothing can be named this way: a closure's captured state lives
/// in the driver process.
/// </summary>
internal sealed record TrainableReference(RemoteMethod Method, bool IsClassFactory)
{
    public static TrainableReference Of(Delegate trainable, bool isClassFactory)
    {
        ArgumentNullException.ThrowIfNull(trainable);
        try
        {
            return new TrainableReference(RemoteMethod.Of(trainable), isClassFactory);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(
                $"The {(isClassFactory ? "trainable factory" : "trainable")} cannot run trials on the RaySharp runtime (TuneOptions.Ray): {e.Message} " +
                "Put what it needs in the search space (constants are allowed there).", e);
        }
    }

    /// <summary>Loads the method in this process and binds it as the trainable function to run.</summary>
    public TrainableFunction Resolve(out Action cleanup)
    {
        if (!IsClassFactory)
        {
            cleanup = static () => { };
            return Method.CreateDelegate<TrainableFunction>();
        }
        var runner = new ClassTrainableRunner(Method.CreateDelegate<Func<Trainable>>());
        cleanup = runner.CleanupIdle;
        return runner.RunAsync;
    }
}
