using RaySharp.Tune;
using RaySharp.Tune.TestDriver;

// Usage: RaySharp.Tune.TestDriver <experiment-directory> <halt-after-results>
// Runs KillableExperiment; once the given number of results is in, every trial halts for good and the
// driver prints "halted", so a test can kill -9 it at a known point.
if (args.Length != 2 || !int.TryParse(args[1], out var haltAfter) || haltAfter < 1)
{
    Console.Error.WriteLine("usage: RaySharp.Tune.TestDriver <experiment-directory> <halt-after-results (≥ 1)>");
    return 2;
}
var reports = 0;
var tuner = new Tuner(
    KillableExperiment.Train(TimeSpan.FromMilliseconds(1), reported: () =>
    {
        if (Interlocked.Increment(ref reports) < haltAfter)
            return;
        Console.WriteLine("halted");
        Thread.Sleep(Timeout.Infinite);
    }),
    KillableExperiment.Space(),
    KillableExperiment.Options(args[0]));
await tuner.FitAsync();
Console.Error.WriteLine($"The experiment finished after {reports} results without halting.");
return 1;
