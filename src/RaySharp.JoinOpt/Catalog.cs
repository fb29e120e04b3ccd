using System.Globalization;
using RaySharp.JoinOpt.Sql;

namespace RaySharp.JoinOpt;

/// <summary>
/// The schema and statistics a query is planned against: table columns and primary keys (from
/// <c>schema.sql</c>), base row counts (<c>stats/imdb_tables.txt</c>), row counts of the key join of
/// table pairs (<c>stats/pairs.csv</c>) and row counts after selection predicates
/// (<c>stats/predicates.csv</c>). Load it with <see cref="Load"/>; find the shipped data with
/// <see cref="FindDataDirectory"/>.
/// </summary>
public sealed class Catalog
{
    private readonly Dictionary<string, TableInfo> _tables;
    private readonly Dictionary<(string, string), double> _pairs;
    private readonly Dictionary<string, double> _predicates;

    private Catalog(Dictionary<string, TableInfo> tables, Dictionary<(string, string), double> pairs, Dictionary<string, double> predicates)
    {
        _tables = tables;
        _pairs = pairs;
        _predicates = predicates;
    }

    /// <summary>Names of the tables in the schema.</summary>
    public IEnumerable<string> Tables => _tables.Keys;

    /// <summary>
    /// Loads <c>schema.sql</c> and the <c>stats/</c> files from a data directory laid out like the
    /// repository's <c>data/job</c>.
    /// </summary>
    /// <exception cref="MissingStatisticsException">A file is missing or a line cannot be read.</exception>
    public static Catalog Load(string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(dataDirectory);
        if (!Directory.Exists(dataDirectory))
            throw new MissingStatisticsException($"The data directory '{dataDirectory}' does not exist; give a directory laid out like the repository's data/job (schema.sql and stats/).");
        var tables = ReadSchema(Required(dataDirectory, "schema.sql"));
        foreach (var line in Lines(Required(dataDirectory, "stats/imdb_tables.txt")))
        {
            var colon = line.Text.LastIndexOf(':');
            if (colon < 0 || !double.TryParse(line.Text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var rows))
                throw Malformed(line, "table:row_count");
            var name = line.Text[..colon].Trim().ToLowerInvariant();
            if (!tables.TryGetValue(name, out var table))
                throw new MissingStatisticsException($"{line.Where}: table '{name}' has a row count but is not in schema.sql.");
            table.Rows = rows;
        }

        var pairs = new Dictionary<(string, string), double>();
        foreach (var line in Lines(Required(dataDirectory, "stats/pairs.csv")))
        {
            var parts = line.Text.Split(',');
            if (parts.Length != 3 || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rows))
                throw Malformed(line, "table_a , table_b,row_count");
            var key = PairKey(parts[0].Trim().ToLowerInvariant(), parts[1].Trim().ToLowerInvariant());
            // A pair listed twice with different counts: keep the larger (the conservative estimate).
            pairs[key] = pairs.TryGetValue(key, out var seen) ? Math.Max(seen, rows) : rows;
        }

        var predicates = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in Lines(Required(dataDirectory, "stats/predicates.csv")))
        {
            var colon = line.Text.LastIndexOf(':');
            if (colon < 0 || !double.TryParse(line.Text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var rows))
                throw Malformed(line, "predicate text :row_count");
            string key;
            try
            {
                key = SqlParser.CanonicalCondition(line.Text[..colon], line.Where);
            }
            catch (SqlSyntaxException e)
            {
                throw new MissingStatisticsException($"{line.Where}: the predicate text cannot be read: {e.Message}", e);
            }
            predicates[key] = rows;
        }
        return new Catalog(tables, pairs, predicates);
    }

    /// <summary>The environment variable that overrides where <see cref="FindDataDirectory"/> looks.</summary>
    public const string DataVariable = "RAYSHARP_DATA";

    /// <summary>
    /// The JOB data directory. <c>RAYSHARP_DATA</c> (a directory holding <c>job/</c>, or the <c>job</c>
    /// directory itself) when set; else the repository's <c>data/job</c>, found by walking up from
    /// <paramref name="start"/> to the folder that holds <c>RaySharp.slnx</c>. Without a
    /// <paramref name="start"/> the walk begins at the application's base directory (so a test, the
    /// benchmark or <c>dotnet run</c> finds it from any working directory) and then at the working
    /// directory (a binary copied out of the repository, run inside a checkout).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No data directory was found; the message says where it looked.</exception>
    public static string FindDataDirectory(string? start = null) =>
        LocateDataDirectory(start, Environment.GetEnvironmentVariable(DataVariable));

    /// <summary><see cref="FindDataDirectory(string?)"/> with the value of <c>RAYSHARP_DATA</c> passed in (tests).</summary>
    internal static string LocateDataDirectory(string? start, string? overrideDirectory)
    {
        if (!string.IsNullOrEmpty(overrideDirectory))
        {
            foreach (var candidate in new[] { Path.Combine(overrideDirectory, "job"), overrideDirectory })
            {
                if (File.Exists(Path.Combine(candidate, "schema.sql")))
                    return Path.GetFullPath(candidate);
            }
            throw new DirectoryNotFoundException($"{DataVariable} is '{overrideDirectory}', but neither it nor its job/ folder holds schema.sql; point it at the directory that holds job/ (the repository's data/), or unset it.");
        }
        var starts = start is not null ? new[] { start } : new[] { AppContext.BaseDirectory, Environment.CurrentDirectory };
        foreach (var from in starts)
        {
            if (RepositoryRoot(from) is { } root)
            {
                var candidate = Path.Combine(root, "data", "job");
                return File.Exists(Path.Combine(candidate, "schema.sql"))
                    ? candidate
                    : throw new DirectoryNotFoundException($"The repository at '{root}' has no data/job/schema.sql; restore data/job from git, or set {DataVariable} to a directory that holds job/.");
            }
        }
        throw new DirectoryNotFoundException($"No RaySharp.slnx (the repository root, which holds data/job) above '{string.Join("' or '", starts)}'; pass the data directory (--data DIR) or set {DataVariable} to a directory that holds job/.");
    }

    private static string? RepositoryRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "RaySharp.slnx")))
                return dir.FullName;
        }
        return null;
    }

    internal bool TryGetTable(string name, out TableInfo table) => _tables.TryGetValue(name, out table!);

    internal bool TryGetPairRows(string tableA, string tableB, out double rows) => _pairs.TryGetValue(PairKey(tableA, tableB), out rows);

    internal bool TryGetPredicateRows(string canonicalText, out double rows) => _predicates.TryGetValue(canonicalText, out rows);

    private static (string, string) PairKey(string a, string b) => string.CompareOrdinal(a, b) <= 0 ? (a, b) : (b, a);

    private static string Required(string directory, string relative)
    {
        var path = Path.Combine(directory, relative);
        if (!File.Exists(path))
            throw new MissingStatisticsException($"Statistics file '{path}' is missing; the data directory must hold schema.sql and stats/imdb_tables.txt, pairs.csv, predicates.csv.");
        return path;
    }

    private static IEnumerable<(string Text, string Where)> Lines(string path)
    {
        var number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            if (!string.IsNullOrWhiteSpace(raw))
                yield return (raw.Trim(), $"{path}:{number}");
        }
    }

    private static MissingStatisticsException Malformed((string Text, string Where) line, string format) =>
        new($"{line.Where}: cannot read '{line.Text}'; expected '{format}'.");

    private static Dictionary<string, TableInfo> ReadSchema(string path)
    {
        var tables = new Dictionary<string, TableInfo>(StringComparer.Ordinal);
        TableInfo? current = null;
        foreach (var (text, where) in Lines(path))
        {
            if (text.StartsWith("CREATE TABLE", StringComparison.OrdinalIgnoreCase))
            {
                var name = text["CREATE TABLE".Length..].Trim().TrimEnd('(').Trim().ToLowerInvariant();
                current = new TableInfo(name);
                tables[name] = current;
            }
            else if (text.StartsWith(')'))
            {
                current = null;
            }
            else if (current is not null)
            {
                var column = text.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0].ToLowerInvariant();
                current.Columns.Add(column);
                if (text.Contains("PRIMARY KEY", StringComparison.OrdinalIgnoreCase))
                    current.PrimaryKey = column;
            }
            else
            {
                throw new MissingStatisticsException($"{where}: cannot read '{text}' in the schema; expected CREATE TABLE blocks.");
            }
        }
        return tables;
    }
}

/// <summary>One table of the schema with its statistics.</summary>
internal sealed class TableInfo(string name)
{
    public string Name { get; } = name;

    public HashSet<string> Columns { get; } = new(StringComparer.Ordinal);

    public string? PrimaryKey { get; set; }

    /// <summary>Base row count; NaN until the statistics provide it.</summary>
    public double Rows { get; set; } = double.NaN;
}
