using RaySharp.JoinOpt;

namespace RaySharp.JoinOpt.Tests;

public sealed class QueryGraphTests
{
    private const string Triangle = """
        SELECT MIN(a.x) AS m FROM a AS a, b AS b, c AS c
        WHERE a.x = 1 AND a.b_id = b.id AND c.a_id = a.id AND b.c_id = c.id
        """;

    [Fact]
    public void Every_shipped_query_becomes_a_connected_graph_with_positive_estimates()
    {
        var files = TestData.JobQueryFiles.ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var graph = QueryGraph.FromFile(file, TestData.Job);
            Assert.True(graph.Count >= 2, $"{graph.Name} has {graph.Count} relations");
            Assert.True(graph.IsConnected(graph.All), $"{graph.Name} is not connected");
            Assert.All(graph.Relations, r => Assert.True(r.Rows > 0 && r.Rows <= r.BaseRows, $"{graph.Name}.{r.Alias}: {r.Rows} of {r.BaseRows}"));
            Assert.All(graph.Edges, e => Assert.InRange(e.Selectivity, double.Epsilon, 1));
        }
    }

    [Fact]
    public void Selections_of_query_1a_take_their_row_counts_from_the_statistics()
    {
        var graph = QueryGraph.FromFile(Path.Combine(TestData.JobQueries, "1a.sql"), TestData.Job);
        var byAlias = graph.Relations.ToDictionary(r => r.Alias);
        Assert.Equal(28889, byAlias["mc"].Rows);
        Assert.Equal(1, byAlias["ct"].Rows);
        Assert.Equal(2528312, byAlias["t"].Rows);
        Assert.Equal(5, graph.Count);
    }

    [Fact]
    public void Edge_selectivity_is_the_key_join_rows_over_the_cross_product()
    {
        var graph = QueryGraph.FromSql(Triangle, TestData.Synthetic);
        Assert.Equal(1000.0 / (1000 * 100), graph.Selectivity(0, 1), 12);
        Assert.Equal(1000.0 / (1000 * 10), graph.Selectivity(0, 2), 12);
        Assert.Equal(500.0 / (100 * 10), graph.Selectivity(1, 2), 12);
    }

    [Fact]
    public void Rows_of_a_set_multiply_filtered_rows_and_the_selectivities_inside_it()
    {
        var graph = QueryGraph.FromSql(Triangle, TestData.Synthetic);
        Assert.Equal(100, graph.Relations[0].Rows);
        Assert.Equal(100.0 * 100 * 0.01, graph.Rows(0b011), 9);
        Assert.Equal(100.0 * 100 * 10 * 0.01 * 0.1 * 0.5, graph.Rows(0b111), 9);
    }

    [Fact]
    public void A_conjunction_listed_as_a_whole_uses_its_own_row_count_and_spacing_or_case_do_not_matter()
    {
        var graph = QueryGraph.FromSql("select min(a.x) from a as a, b as b where A.X=1 and a.y   =  2 and a.b_id = b.id", TestData.Synthetic);
        Assert.Equal(10, graph.Relations[0].Rows);
    }

    [Fact]
    public void Redundant_parentheses_around_a_selection_do_not_hide_its_statistics()
    {
        var graph = QueryGraph.FromSql("SELECT MIN(a.x) FROM a AS a, b AS b WHERE (a.x = 1) AND ((b.x > 5)) AND a.b_id = b.id", TestData.Synthetic);
        Assert.Equal(100, graph.Relations[0].Rows);
        Assert.Equal(50, graph.Relations[1].Rows);
    }

    [Fact]
    public void Index_nested_loop_joins_are_possible_only_into_a_primary_key()
    {
        var graph = QueryGraph.FromSql(Triangle, TestData.Synthetic);
        Assert.Equal(0b100UL, graph.PrimaryKeyJoins[0]);
        Assert.Equal(0b001UL, graph.PrimaryKeyJoins[1]);
        Assert.Equal(0b010UL, graph.PrimaryKeyJoins[2]);
    }

    [Theory]
    [InlineData("SELECT MIN(a.x) FROM a AS a JOIN b AS b ON a.b_id = b.id", "Explicit JOIN syntax", "query:1:29")]
    [InlineData("SELECT MIN(a.x) FROM a AS a, b AS b WHERE a.b_id = b.id GROUP BY a.x", "GROUP", "query:1:57")]
    [InlineData("SELECT MIN(a.x) FROM a AS a, b AS b WHERE a.b_id = b.id OR a.x = 1", "spans several relations", "query:1:43")]
    [InlineData("SELECT MIN(a.x) FROM a AS a, b AS b WHERE a.b_id = b.id AND a.x < b.y", "not an equality join", "query:1:61")]
    [InlineData("SELECT MIN(a.x) FROM a AS a WHERE lower(a.x) = 'q'", "The function LOWER", "query:1:35")]
    [InlineData("SELECT MIN(a.x) FROM a AS a WHERE a.x IN (SELECT b.id FROM b)", "subquery", "query:1:43")]
    [InlineData("SELECT MIN(a.x) FROM a AS a WHERE NOT a.x = 1", "NOT before a condition", "query:1:35")]
    [InlineData("SELECT MIN(a.x) FROM a AS a WHERE a.x = 'open", "Unterminated string", "query:1:41")]
    [InlineData("SELECT upper(a.x) FROM a AS a", "UPPER", "query:1:8")]
    public void Sql_outside_the_subset_is_rejected_with_the_construct_and_its_position(string sql, string construct, string position)
    {
        var error = Assert.Throws<SqlSyntaxException>(() => QueryGraph.FromSql(sql, TestData.Synthetic));
        Assert.Contains(construct, error.Message, StringComparison.Ordinal);
        Assert.Contains(position, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_supported_operator_parses()
    {
        var sql = """
            SELECT MIN(a.x) AS m, MIN(b.y) AS n FROM a AS a, b AS b
            WHERE a.x = 1 AND (b.x > 5) AND a.b_id = b.id AND a.y <> 3 AND a.y != 4 AND a.y < 5 AND a.y <= 6
              AND a.y >= 7 AND a.y LIKE 'p%' AND a.y NOT LIKE '%q' AND a.y IN ('a', 'b''c') AND a.y NOT IN (1, 2)
              AND a.y BETWEEN 1 AND 9 AND a.y IS NULL AND a.y IS NOT NULL AND (a.y = 1 OR (a.y = 2 AND a.x = 3));
            """;
        var error = Assert.Throws<MissingStatisticsException>(() => QueryGraph.FromSql(sql, TestData.Synthetic));
        Assert.Contains("a.y <> 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_table_is_named_with_the_tables_that_exist()
    {
        var error = Assert.Throws<QueryValidationException>(() => QueryGraph.FromSql("SELECT MIN(z.x) FROM zz AS z", TestData.Synthetic));
        Assert.Contains("Unknown table 'zz'", error.Message, StringComparison.Ordinal);
        Assert.Contains("a, b, c", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_column_is_named_with_its_table()
    {
        var error = Assert.Throws<QueryValidationException>(() => QueryGraph.FromSql("SELECT MIN(a.x) FROM a AS a, b AS b WHERE a.nope = b.id", TestData.Synthetic));
        Assert.Contains("Unknown column 'a.nope'", error.Message, StringComparison.Ordinal);
        Assert.Contains("table 'a'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_alias_is_named()
    {
        var error = Assert.Throws<QueryValidationException>(() => QueryGraph.FromSql("SELECT MIN(a.x) FROM a AS a WHERE q.x = 1", TestData.Synthetic));
        Assert.Contains("Unknown alias 'q'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disconnected_join_graph_names_both_parts()
    {
        var error = Assert.Throws<QueryValidationException>(() => QueryGraph.FromSql("SELECT MIN(a.x) FROM a AS a, b AS b, c AS c, e AS e WHERE a.b_id = b.id AND c.a_id = e.id", TestData.Synthetic));
        Assert.Contains("disconnected", error.Message, StringComparison.Ordinal);
        Assert.Contains("{a,b}", error.Message, StringComparison.Ordinal);
        Assert.Contains("{c,e}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_selection_without_statistics_is_named()
    {
        var error = Assert.Throws<MissingStatisticsException>(() => QueryGraph.FromSql("SELECT MIN(a.x) FROM a AS a, b AS b WHERE a.x = 2 AND a.b_id = b.id", TestData.Synthetic));
        Assert.Contains("'a.x = 2'", error.Message, StringComparison.Ordinal);
        Assert.Contains("predicates.csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_join_pair_without_statistics_is_named()
    {
        var error = Assert.Throws<MissingStatisticsException>(() => QueryGraph.FromSql("SELECT MIN(d.x) FROM d AS d, e AS e WHERE d.c_id = e.id", TestData.Synthetic));
        Assert.Contains("'d' and 'e'", error.Message, StringComparison.Ordinal);
        Assert.Contains("pairs.csv", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_without_a_row_count_is_named()
    {
        var error = Assert.Throws<MissingStatisticsException>(() => QueryGraph.FromSql("SELECT MIN(f.x) FROM f AS f", TestData.Synthetic));
        Assert.Contains("table 'f'", error.Message, StringComparison.Ordinal);
        Assert.Contains("imdb_tables.txt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_statistics_file_is_named()
    {
        var error = Assert.Throws<MissingStatisticsException>(() => Catalog.Load(Path.GetTempPath()));
        Assert.Contains("schema.sql", error.Message, StringComparison.Ordinal);
    }
}
