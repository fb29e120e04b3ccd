using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RaySharp.Bench;

/// <summary>
/// The results of one verb: metric name → mean, standard deviation and unit, written as
/// <c>bench/results/&lt;verb&gt;.json</c> (<c>{"metric": {"mean", "sd", "unit"}}</c>) and printed as a
/// markdown table. References and peers are recorded under their own names (<c>ref_*</c>,
/// <c>orleans_*</c>, <c>zookeeper_*</c>, …) so ratios can be read off the same run.
/// </summary>
internal sealed class BenchReport(string verb)
{
    private readonly List<(string Name, Stat Stat)> _metrics = [];
    private readonly List<string> _notes = [];

    public string Verb { get; } = verb;

    public IReadOnlyList<(string Name, Stat Stat)> Metrics => _metrics;

    /// <summary>Records a metric from repeated samples (mean and sample standard deviation).</summary>
    public Stat Add(string name, string unit, IReadOnlyList<double> samples)
    {
        var stat = Stat.Of(samples, unit);
        Add(name, stat);
        return stat;
    }

    /// <summary>Records a metric measured once (sd 0) or derived from other metrics.</summary>
    public Stat Add(string name, string unit, double value)
    {
        var stat = new Stat(value, 0, unit);
        Add(name, stat);
        return stat;
    }

    private void Add(string name, Stat stat)
    {
        if (_metrics.Exists(m => m.Name == name))
            throw new InvalidOperationException($"Metric '{name}' was recorded twice in the '{Verb}' benchmark.");
        _metrics.Add((name, stat));
        Console.WriteLine($"  {name,-48} {Format(stat)}");
    }

    /// <summary>A line printed under the table: a target checked, a peer that could not be started.</summary>
    public void Note(string line)
    {
        _notes.Add(line);
        Console.WriteLine($"  note: {line}");
    }

    /// <summary>Writes the JSON file and returns the markdown table.</summary>
    public string Write(string resultsDirectory)
    {
        Directory.CreateDirectory(resultsDirectory);
        var path = Path.Combine(resultsDirectory, Verb + ".json");
        using (var stream = File.Create(path))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            foreach (var (name, stat) in _metrics)
            {
                json.WriteStartObject(name);
                json.WriteNumber("mean", Finite(stat.Mean));
                json.WriteNumber("sd", Finite(stat.Sd));
                json.WriteString("unit", stat.Unit);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }

        var table = new StringBuilder();
        table.AppendLine("| metric | mean | sd | unit |");
        table.AppendLine("|---|---:|---:|---|");
        foreach (var (name, stat) in _metrics)
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Number(stat.Mean)} | {Number(stat.Sd)} | {stat.Unit} |");
        foreach (var note in _notes)
            table.AppendLine().Append("- ").Append(note);
        File.WriteAllText(Path.Combine(resultsDirectory, Verb + ".md"), table.ToString());
        return table.ToString();
    }

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static string Format(Stat stat) => $"{Number(stat.Mean)} ± {Number(stat.Sd)} {stat.Unit}";

    private static string Number(double value) => Math.Abs(value) switch
    {
        0 => "0",
        >= 1000 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("F1", CultureInfo.InvariantCulture),
        >= 0.01 => value.ToString("F3", CultureInfo.InvariantCulture),
        _ => value.ToString("G3", CultureInfo.InvariantCulture),
    };
}

/// <summary>A measured quantity: mean, sample standard deviation, unit.</summary>
internal readonly record struct Stat(double Mean, double Sd, string Unit)
{
    public static Stat Of(IReadOnlyList<double> samples, string unit)
    {
        if (samples.Count == 0)
            throw new ArgumentException("A metric needs at least one sample.", nameof(samples));
        var mean = samples.Average();
        var sd = samples.Count > 1
            ? Math.Sqrt(samples.Sum(s => (s - mean) * (s - mean)) / (samples.Count - 1))
            : 0;
        return new Stat(mean, sd, unit);
    }
}

/// <summary>Ray's microbenchmark method: warm up, then time several runs of a fixed amount of work.</summary>
internal static class Measure
{
    /// <summary>
    /// Runs <paramref name="work"/> (which performs <paramref name="operations"/> operations) once to
    /// warm up, then <paramref name="runs"/> times, and returns operations per second for each run.
    /// </summary>
    public static async Task<double[]> RateAsync(int runs, long operations, Func<Task> work)
    {
        await work();
        var rates = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await work();
            rates[i] = operations / clock.Elapsed.TotalSeconds;
        }
        return rates;
    }

    /// <summary>Synchronous variant of <see cref="RateAsync"/>.</summary>
    public static double[] Rate(int runs, long operations, Action work)
    {
        work();
        var rates = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            work();
            rates[i] = operations / clock.Elapsed.TotalSeconds;
        }
        return rates;
    }
}
