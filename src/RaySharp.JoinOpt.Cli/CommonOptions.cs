using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace RaySharp.JoinOpt.Cli;

/// <summary>The options <c>plan</c> and <c>train</c> share, their checks, and the error boundary of both verbs.</summary>
internal static class CommonOptions
{
    /// <summary><c>--data DIR</c>: where the schema and statistics are.</summary>
    public static Option<DirectoryInfo> Data()
    {
        var option = new Option<DirectoryInfo>("--data")
        {
            Description = $"The JOB data directory (schema.sql, stats/). Default: {Catalog.DataVariable}, else the repository's data/job.",
            HelpName = "DIR",
        };
        option.AcceptExistingOnly();
        return option;
    }

    /// <summary><c>--cost NAME</c>, default CM1; <paramref name="allowAll"/> also accepts <c>all</c>.</summary>
    public static Option<string> Cost(bool allowAll)
    {
        var names = CostModel.All.Select(m => m.Name).ToList();
        if (allowAll) names.Add("all");
        var option = new Option<string>("--cost")
        {
            Description = $"The cost model: {string.Join(", ", names)}.",
            DefaultValueFactory = _ => CostModel.CM1.Name,
            HelpName = "NAME",
        };
        option.Validators.Add(r => OneOf(r, names, "cost model"));
        return option;
    }

    /// <summary>
    /// Refuses an option whose value is another option of <paramref name="command"/>: System.CommandLine
    /// gives a valued option the next token whatever it looks like, so <c>--cost --data DIR</c> would
    /// otherwise read as the cost model "--data".
    /// </summary>
    public static void RefuseOptionsAsValues(Command command)
    {
        var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        command.Validators.Add(r =>
        {
            foreach (var option in r.Children.OfType<OptionResult>())
            {
                if (option.Tokens.FirstOrDefault(t => names.Contains(t.Value)) is { } token)
                    r.AddError($"{option.Option.Name} needs a value, but the next argument is the option {token.Value}.");
            }
        });
    }

    /// <summary>An option taking a whole number of at least 1, <paramref name="defaultValue"/> when not given.</summary>
    public static Option<int> AtLeastOne(string name, int defaultValue, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        HelpName = "N",
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0)
                return defaultValue;
            var text = r.Tokens[0].Value;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1)
                return value;
            r.AddError($"{name} must be a whole number of at least 1, got '{text}'.");
            return defaultValue;
        },
    };

    /// <summary>
    /// The value of <paramref name="option"/> in a command validator; default when the option was given
    /// without a value (the parser reports that, and reading the value would throw).
    /// </summary>
    public static T? Given<T>(CommandResult result, Option<T> option) =>
        result.GetResult(option) is { Implicit: false, Tokens.Count: 0 } ? default : result.GetValue(option);

    /// <summary>The full path a file or folder option or argument was given, or null when it was given no value.</summary>
    public static string? PathOf(SymbolResult result) => result.Tokens.Count == 0 ? null : Path.GetFullPath(result.Tokens[0].Value);

    /// <summary>Adds an error unless the option's value is one of <paramref name="names"/> (any case).</summary>
    public static void OneOf(OptionResult result, IReadOnlyCollection<string> names, string what)
    {
        if (result is { Implicit: false, Tokens.Count: 0 })
            return; // given without a value: the parser says so
        var value = result.GetValueOrDefault<string>();
        if (!names.Contains(value, StringComparer.OrdinalIgnoreCase))
            result.AddError($"Unknown {what} '{value}' for {result.Option.Name}; use one of {string.Join(", ", names)}.");
    }

    /// <summary>The catalog from <c>--data</c>, else from the default data directory.</summary>
    public static (Catalog Catalog, string Directory) LoadCatalog(ParseResult result, Option<DirectoryInfo> data)
    {
        var directory = result.GetValue(data)?.FullName ?? Catalog.FindDataDirectory();
        return (Catalog.Load(directory), directory);
    }

    /// <summary>
    /// Runs a verb; bad input found while running (a query outside the SQL subset, missing statistics,
    /// an unreadable model, a file system error) is printed as <c>error: …</c> with exit code 1, no stack trace.
    /// </summary>
    public static async Task<int> RunAsync(ParseResult result, Func<TextWriter, Task<int>> verb)
    {
        var output = result.InvocationConfiguration.Output;
        try
        {
            return await verb(output);
        }
        catch (Exception e) when (e is JoinOptException or IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException)
        {
            await result.InvocationConfiguration.Error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }
}
