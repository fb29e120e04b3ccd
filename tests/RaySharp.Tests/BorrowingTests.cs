using RaySharp.ObjectStore;

namespace RaySharp.Tests;

/// <summary>
/// Distributed reference counting (borrowing, as Ray): refs inside values — held by actors in other
/// processes, stored inside other objects, returned from calls — keep their objects alive until the last
/// holder lets go, and then the object is freed.
/// </summary>
public sealed class BorrowingTests : IAsyncLifetime
{
    private const int Floats = 1 << 19; // 2 MiB: in the shared-memory store, so the store shows whether it lives
    private Ray _ray = null!;

    public async Task InitializeAsync() => _ray = await Ray.InitAsync(new RayOptions { NumCpus = 2, ObjectStoreBytes = 64 << 20 });

    public async Task DisposeAsync() => await _ray.DisposeAsync();

    private SharedMemoryObjectStore<ObjectId> Store => _ray.OwnedHead!.ObjectStore;

    private static float[] Ones() => Enumerable.Repeat(1f, Floats).ToArray();

    private static void CollectDriverGarbage()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [Fact]
    public async Task An_actor_that_stores_a_ref_keeps_the_object_after_the_driver_drops_it_until_the_actor_is_killed()
    {
        var keeper = _ray.Actor(() => new Keeper()).Remote();
        var stored = _ray.Put(Ones());
        await Within.Await(keeper.Call(k => k.Keep(new Box(stored))).GetAsync(), "the actor to store the ref");

        stored.Dispose();
        CollectDriverGarbage();

        Assert.Equal(1, Store.GetStats().ObjectCount);
        Assert.Equal((double)Floats, await Within.Await(keeper.Call(k => k.Sum()).GetAsync(), "the actor to read the kept ref"));

        _ray.Kill(keeper);
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the object to be freed once its only borrower (the actor) was killed");
    }

    [Fact]
    public async Task A_ref_passed_to_an_actor_constructor_lives_while_the_actor_holds_it_and_is_freed_when_it_lets_go()
    {
        var stored = _ray.Put(Ones());
        var keeper = _ray.Actor(() => new Keeper(new Box(stored))).Remote();
        stored.Dispose();
        CollectDriverGarbage();

        Assert.Equal((double)Floats, await Within.Await(keeper.Call(k => k.Sum()).GetAsync(), "the actor to read the ref from its constructor"));
        Assert.Equal(1, Store.GetStats().ObjectCount);

        await Within.Await(keeper.Call(k => k.Forget()).GetAsync(), "the actor to drop its ref and collect garbage");
        _ray.Kill(keeper); // the constructor's arguments are kept for restarts while the actor lives
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the object to be freed once the actor dropped it and died");
    }

    [Fact]
    public async Task An_actor_that_forgets_a_ref_releases_it_without_dying()
    {
        var keeper = _ray.Actor(() => new Keeper()).Remote();
        var stored = _ray.Put(Ones());
        await Within.Await(keeper.Call(k => k.Keep(new Box(stored))).GetAsync(), "the actor to store the ref");
        stored.Dispose();
        Assert.Equal(1, Store.GetStats().ObjectCount);

        await Within.Await(keeper.Call(k => k.Forget()).GetAsync(), "the actor to drop its ref and collect garbage");
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the object to be freed once its borrower released it");
        Assert.Equal(0, await Within.Await(keeper.Call(k => k.Forget()).GetAsync(), "the actor to keep working"));
    }

    [Fact]
    public async Task A_ref_inside_a_put_value_lives_as_long_as_the_outer_object()
    {
        var inner = _ray.Put(Ones());
        var outer = _ray.Put(new Box(inner));
        inner.Dispose();
        CollectDriverGarbage();
        Assert.Equal(1, Store.GetStats().ObjectCount);

        var again = (await Within.Await(outer.GetAsync(), "the outer object")).Ref;
        outer.Dispose();
        Assert.Equal(1, Store.GetStats().ObjectCount); // the handle read out of the outer value holds it
        Assert.Equal(Floats, (await Within.Await(again.GetAsync(), "the inner array")).Length);

        again.Dispose();
        Assert.Equal(0, Store.GetStats().ObjectCount);
    }

    [Fact]
    public async Task Disposing_one_handle_twice_leaves_another_handle_to_the_same_object_working()
    {
        var first = _ray.Put(Ones());
        using var outer = _ray.Put(new Box(first));
        var second = (await Within.Await(outer.GetAsync(), "the outer object")).Ref;
        Assert.Equal(first.Id, second.Id);

        first.Dispose();
        first.Dispose();
        Assert.Equal(Floats, (await Within.Await(second.GetAsync(), "the array through the second handle")).Length);
        Assert.Equal(1, Store.GetStats().ObjectCount);
    }

    [Fact]
    public async Task A_ref_returned_inside_an_actor_result_keeps_the_object_until_every_holder_let_go()
    {
        var keeper = _ray.Actor(() => new Keeper()).Remote();
        var stored = _ray.Put(Ones());
        var echoed = keeper.Call(k => k.Echo(new Box(stored)));
        var back = (await Within.Await(echoed.GetAsync(), "the echoed box")).Ref;
        stored.Dispose();
        echoed.Dispose();
        CollectDriverGarbage();

        Assert.Equal(Floats, (await Within.Await(back.GetAsync(), "the array through the returned ref")).Length);
        back.Dispose();
        await Within.Await(keeper.Call(k => k.Forget()).GetAsync(), "the actor to collect its garbage");
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the object to be freed once the driver and the actor let go");
    }

    [Fact]
    public async Task An_object_a_task_puts_and_returns_inside_its_result_outlives_the_task_and_the_result()
    {
        var made = _ray.Task(Boxes.PutAndReturn, 3f).Remote();
        var inner = (await Within.Await(made.GetAsync(), "the box a task made")).Ref;
        made.Dispose();
        CollectDriverGarbage();

        var values = await Within.Await(inner.GetAsync(), "the array the task put");
        Assert.Equal(Floats, values.Length);
        Assert.All(values, v => Assert.Equal(3f, v));
    }

    [Fact]
    public async Task An_object_an_actor_creates_and_returns_is_freed_once_the_actor_and_the_driver_let_go()
    {
        var keeper = _ray.Actor(() => new Keeper()).Remote();
        var made = keeper.Call(k => k.Make(2f));
        var inner = (await Within.Await(made.GetAsync(), "the box the actor made")).Ref;
        made.Dispose();
        await Within.Await(keeper.Call(k => k.Forget()).GetAsync(), "the actor to drop its own handle");
        CollectDriverGarbage();
        Assert.Equal(1, Store.GetStats().ObjectCount);
        Assert.Equal(2f, (await Within.Await(inner.GetAsync(), "the array the actor made"))[^1]);

        inner.Dispose();
        await Within.Until(() => Store.GetStats().ObjectCount == 0, "the actor's object to be freed once nobody holds it");
    }

    [Fact]
    public async Task A_task_reads_refs_inside_its_argument_after_the_driver_disposed_them()
    {
        var stored = _ray.Put(Ones());
        var sum = _ray.Task(Boxes.Sum, new Box(stored)).Remote();
        stored.Dispose();
        CollectDriverGarbage();
        Assert.Equal((double)Floats, await Within.Await(sum.GetAsync(), "a task summing a ref inside its argument"));
    }
}

/// <summary>A value that carries a ref.</summary>
public sealed record Box(ObjectRef<float[]> Ref);

internal static class Boxes
{
    public static double Sum(Box box) => box.Ref.Get().Sum(x => (double)x);

    public static Box PutAndReturn(float value) => new(Ray.Current.Put(Enumerable.Repeat(value, 1 << 19).ToArray()));
}

/// <summary>An actor that keeps a ref in a field.</summary>
public sealed class Keeper
{
    private Box? _kept;

    public Keeper()
    {
    }

    public Keeper(Box box) => _kept = box;

    public int Keep(Box box)
    {
        _kept = box;
        return 0;
    }

    public double Sum() => _kept!.Ref.Get().Sum(x => (double)x);

    public Box Echo(Box box) => box;

    public Box Make(float value) => new(Ray.Current.Put(Enumerable.Repeat(value, 1 << 19).ToArray()));

    /// <summary>Drops the kept ref and collects garbage, so this process's handles are finalised (and reported) now.</summary>
    public int Forget()
    {
        _kept = null;
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return 0;
    }
}
