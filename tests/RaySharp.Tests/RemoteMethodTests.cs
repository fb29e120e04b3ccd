namespace RaySharp.Tests;

/// <summary><see cref="RemoteMethod"/>: naming a user's method in the driver and calling it in a worker process.</summary>
[Collection("cluster")]
public class RemoteMethodTests(ClusterFixture cluster)
{
    private Ray Ray => cluster.Ray;

    [Fact]
    public async Task A_named_static_method_or_capture_free_lambda_is_called_in_a_worker_process()
    {
        var twice = RemoteMethod.Of(new Func<int, int>(Work.Twice));
        Assert.Equal("Work.Twice", twice.Name);
        var result = await Within.Await(Ray.Task(Functions.Apply, twice, 21).Remote().GetAsync(), "a task that calls a named method");
        Assert.Equal(42, result.Value);
        Assert.NotEqual(Environment.ProcessId, result.Pid);

        var lambda = RemoteMethod.Of(new Func<int, int>(x => x + 100));
        Assert.Equal(105, (await Within.Await(Ray.Task(Functions.Apply, lambda, 5).Remote().GetAsync(), "a task that calls a named lambda")).Value);
        Assert.Equal(RemoteMethod.Of(typeof(Work).GetMethod(nameof(Work.Twice))!), twice);
    }

    [Fact]
    public void Methods_other_processes_cannot_run_are_rejected_with_the_reason()
    {
        var offset = Environment.ProcessId;
        var closure = Assert.Throws<ArgumentException>(() => RemoteMethod.Of(new Func<int, int>(x => x + offset)));
        Assert.Contains("captures state of this process", closure.Message);

        var instance = Assert.Throws<ArgumentException>(() => RemoteMethod.Of(new Func<string?>(new object().ToString)));
        Assert.Contains("captures state of this process", instance.Message);

        var generic = Assert.Throws<ArgumentException>(() => RemoteMethod.Of(typeof(Functions).GetMethod(nameof(Functions.Identity))!));
        Assert.Contains("open generic", generic.Message);

        var twice = RemoteMethod.Of(new Func<int, int>(Work.Twice));
        var mismatch = Assert.Throws<ArgumentException>(() => twice.CreateDelegate<Func<string, string>>());
        Assert.Contains("cannot be called as a Func`2", mismatch.Message);
    }

    internal static class Functions
    {
        public static (int Value, int Pid) Apply(RemoteMethod method, int x) => (method.CreateDelegate<Func<int, int>>()(x), Environment.ProcessId);

        public static T Identity<T>(T value) => value;
    }
}
