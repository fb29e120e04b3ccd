using RaySharp.JoinOpt;

namespace RaySharp.JoinOpt.Tests;

/// <summary>The shipped JOB data and a small synthetic catalog whose numbers are easy to check by hand.</summary>
internal static class TestData
{
    private static readonly Lazy<Catalog> JobCatalog = new(() => Catalog.Load(Catalog.FindDataDirectory()));
    private static readonly Lazy<string> SyntheticDirectory = new(WriteSynthetic);

    public static Catalog Job => JobCatalog.Value;

    public static string DataDirectory => Catalog.FindDataDirectory();

    public static string JobQueries => Path.Combine(DataDirectory, "queries");

    public static IEnumerable<string> JobQueryFiles => Directory.EnumerateFiles(JobQueries, "*.sql").Order(StringComparer.Ordinal);

    public static Catalog Synthetic => Catalog.Load(SyntheticDirectory.Value);

    /// <summary>
    /// Tables a(1000) b(100) c(10) d(50) e(20), and f without a row count. Key joins a–b 1000, a–c 1000, b–d 200, c–e 40, b–c 500.
    /// Predicates: a.x = 1 keeps 100 rows, b.x &gt; 5 keeps 50, a.x = 1 AND a.y = 2 keeps 10.
    /// </summary>
    private static string WriteSynthetic()
    {
        var dir = Path.Combine(Path.GetTempPath(), "raysharp-joinopt-tests-" + Environment.ProcessId);
        Directory.CreateDirectory(Path.Combine(dir, "stats"));
        File.WriteAllText(Path.Combine(dir, "schema.sql"), string.Join('\n', new[] { "a", "b", "c", "d", "e", "f" }.Select(t => $"""
            CREATE TABLE {t} (
                id integer NOT NULL PRIMARY KEY,
                x integer,
                y integer,
                a_id integer,
                b_id integer,
                c_id integer
            );
            """)));
        File.WriteAllText(Path.Combine(dir, "stats", "imdb_tables.txt"), "a:1000\nb:100\nc:10\nd:50\ne:20\n");
        File.WriteAllText(Path.Combine(dir, "stats", "pairs.csv"), "a , b,1000\nc , a,1000\nb , d,200\nc , e,40\nb , c,500\n");
        File.WriteAllText(Path.Combine(dir, "stats", "predicates.csv"), "  a.x = 1 :100\n  b.x >5 :50\n  a.x  = 1 and a.y = 2 :10\n");
        return dir;
    }
}
