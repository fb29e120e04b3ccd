using System.Text.RegularExpressions;
using RaySharp.JoinOpt.Dq;

namespace RaySharp.JoinOpt.Tests;

/// <summary>The <c>joinopt</c> CLI run as a real process: each kind of bad input is refused with a clear message.</summary>
public sealed class CliTests
{
    private static string Query(string name) => Path.Combine(TestData.JobQueries, name);

    [Fact]
    public async Task Plan_given_a_directory_says_it_takes_one_file()
    {
        var result = await JoinOptCli.RunAsync("plan", TestData.JobQueries);
        JoinOptCli.AssertRefused(result, $"'{TestData.JobQueries}' is a directory; plan takes one .sql file");
    }

    [Fact]
    public async Task Plan_given_a_missing_file_names_it()
    {
        var missing = Query("no-such-query.sql");
        JoinOptCli.AssertRefused(await JoinOptCli.RunAsync("plan", missing), $"No such file: '{missing}'");
    }

    [Fact]
    public async Task A_query_file_given_as_the_model_is_refused_as_not_a_DQ_model()
    {
        var sql = Query("1a.sql");
        var result = await JoinOptCli.RunAsync("plan", sql, "--method", "DQ", "--model", sql);
        JoinOptCli.AssertRefused(result, $"error: '{sql}' is not a DQ model: it is not a readable safetensors file");
    }

    [Fact]
    public async Task An_option_missing_its_value_does_not_take_the_next_flag_as_its_value()
    {
        var result = await JoinOptCli.RunAsync("plan", Query("1a.sql"), "--cost", "--data", TestData.DataDirectory);
        JoinOptCli.AssertRefused(result, "--cost needs a value, but the next argument is the option --data.");
        Assert.DoesNotContain("Unknown cost model '--data'", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--method")]
    [InlineData("--cost")]
    [InlineData("--model")]
    [InlineData("--repeat")]
    [InlineData("--data")]
    public async Task An_option_at_the_end_without_a_value_is_refused(string option)
    {
        JoinOptCli.AssertRefused(await JoinOptCli.RunAsync("plan", Query("1a.sql"), option), $"Required argument missing for option: '{option}'.");
    }

    [Theory]
    [InlineData("--cost", "CM9", "Unknown cost model 'CM9' for --cost; use one of Cout, CM1, CM2, CM3, all.")]
    [InlineData("--method", "Dijkstra", "Unknown method 'Dijkstra' for --method; use one of Exhaustive, LeftDeep, RightDeep, ZigZag, IK-KBZ, MinSel, QuickPick, DQ, all.")]
    [InlineData("--repeat", "0", "--repeat must be a whole number of at least 1, got '0'.")]
    [InlineData("--repeat", "many", "--repeat must be a whole number of at least 1, got 'many'.")]
    [InlineData("--frobnicate", "1", "Unrecognized command or argument '--frobnicate'.")]
    public async Task Bad_plan_options_are_refused_naming_the_value(string option, string value, string message)
    {
        JoinOptCli.AssertRefused(await JoinOptCli.RunAsync("plan", Query("1a.sql"), option, value), message);
    }

    [Fact]
    public async Task DQ_without_a_model_and_a_model_without_DQ_are_refused()
    {
        JoinOptCli.AssertRefused(await JoinOptCli.RunAsync("plan", Query("1a.sql"), "--method", "DQ"), "--method DQ needs --model FILE");
        JoinOptCli.AssertRefused(
            await JoinOptCli.RunAsync("plan", Query("1a.sql"), "--method", "LeftDeep", "--model", Query("1a.sql")),
            "--model is used only with --method DQ or all, not LeftDeep.");
    }

    [Fact]
    public async Task A_data_directory_without_statistics_names_the_missing_file()
    {
        var empty = Directory.CreateTempSubdirectory("joinopt-empty-data-").FullName;
        try
        {
            var result = await JoinOptCli.RunAsync("plan", Query("1a.sql"), "--data", empty);
            JoinOptCli.AssertRefused(result, $"error: Statistics file '{Path.Combine(empty, "schema.sql")}' is missing");
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public async Task A_query_outside_the_SQL_subset_is_refused_with_its_position()
    {
        var file = Path.Combine(Path.GetTempPath(), $"joinopt-bad-{Guid.NewGuid():N}.sql");
        await File.WriteAllTextAsync(file, "SELECT MIN(t.title) FROM title AS t JOIN movie_companies AS mc ON t.id = mc.movie_id;");
        try
        {
            var result = await JoinOptCli.RunAsync("plan", file);
            JoinOptCli.AssertRefused(result, "error: ");
            Assert.Contains(Path.GetFileNameWithoutExtension(file) + ":1:", result.Err, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--epochs", "0", "--epochs must be a whole number of at least 1, got '0'.")]
    [InlineData("--epochs", "-3", "--epochs must be a whole number of at least 1, got '-3'.")]
    [InlineData("--cost", "all", "Unknown cost model 'all' for --cost; use one of Cout, CM1, CM2, CM3.")]
    [InlineData("--out", "/", "--out '/' is a directory")]
    [InlineData("--queries", "/no/such/folder", "Directory does not exist: '/no/such/folder'.")]
    public async Task Bad_train_options_are_refused_naming_the_value(string option, string value, string message)
    {
        JoinOptCli.AssertRefused(await JoinOptCli.RunAsync("train", "--in-process", option, value), message);
    }

    [Fact]
    public async Task Training_on_a_folder_without_queries_says_so()
    {
        var empty = Directory.CreateTempSubdirectory("joinopt-no-queries-").FullName;
        try
        {
            JoinOptCli.AssertRefused(await JoinOptCli.RunAsync("train", "--in-process", "--queries", empty), $"error: No .sql files in '{empty}'");
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public async Task Plan_reports_the_median_of_warm_runs_for_every_model_and_finds_the_data_from_any_working_directory()
    {
        var result = await JoinOptCli.RunAsync("plan", Query("1a.sql"), "--cost", "all", "--method", "leftdeep", "--repeat", "3");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"(data: {TestData.DataDirectory})", result.Out, StringComparison.Ordinal);
        var timings = Regex.Matches(result.Out, @"^LeftDeep under (\w+): cost \S+, planned in [0-9.]+ ms \(median of 3 warm runs; first call [0-9.]+ ms\)$", RegexOptions.Multiline);
        Assert.Equal(["Cout", "CM1", "CM2", "CM3"], timings.Select(m => m.Groups[1].Value));
    }

    [Fact]
    public async Task Plan_with_a_saved_DQ_model_plans_with_it()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dq-cli-{Guid.NewGuid():N}.safetensors");
        try
        {
            DqTests.SaveModel(path);
            var result = await JoinOptCli.RunAsync("plan", Query("1a.sql"), "--method", "DQ", "--model", path, "--cost", "Cout", "--repeat", "1");
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("DQ under Cout: cost ", result.Out, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Train_in_process_saves_a_model_that_loads()
    {
        var queries = Directory.CreateTempSubdirectory("joinopt-train-").FullName;
        var path = Path.Combine(queries, "dq.safetensors");
        try
        {
            foreach (var name in new[] { "1a.sql", "1b.sql" })
                File.Copy(Query(name), Path.Combine(queries, name));
            var result = await JoinOptCli.RunAsync("train", "--in-process", "--cost", "cm2", "--epochs", "1", "--queries", queries, "--out", path);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"trained DQ for CM2 on 2 queries", result.Out, StringComparison.Ordinal);
            Assert.Equal("CM2", DqOptimizer.Load(path).TrainedFor);
        }
        finally
        {
            Directory.Delete(queries, recursive: true);
        }
    }
}
