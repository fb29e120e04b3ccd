using RaySharp.JoinOpt.Sql;

namespace RaySharp.JoinOpt;

/// <summary>Turns a parsed query into a <see cref="QueryGraph"/>: validation and cardinality estimation.</summary>
internal static class QueryGraphBuilder
{
    public static QueryGraph Build(SqlQuery query, Catalog catalog, string name)
    {
        if (query.From.Count > 64)
            throw new QueryValidationException($"Query '{name}' has {query.From.Count} relations; at most 64 are supported.");
        var aliases = new Dictionary<string, int>(StringComparer.Ordinal);
        var tables = new List<TableInfo>();
        foreach (var item in query.From)
        {
            if (!catalog.TryGetTable(item.Table, out var table))
                throw new QueryValidationException($"Unknown table '{item.Table}' at {At(query, item.Offset)}; the schema has: {string.Join(", ", catalog.Tables.Order(StringComparer.Ordinal))}.");
            if (!aliases.TryAdd(item.Alias, tables.Count))
                throw new QueryValidationException($"Alias '{item.Alias}' at {At(query, item.Offset)} is used twice in FROM; give each relation its own alias.");
            if (double.IsNaN(table.Rows))
                throw new MissingStatisticsException($"No row count for table '{table.Name}' (alias '{item.Alias}'); add '{table.Name}:<rows>' to stats/imdb_tables.txt.");
            tables.Add(table);
        }

        var conjuncts = new List<Condition>();
        if (query.Where is not null)
            Flatten(query.Where, conjuncts);

        var selections = new List<Condition>[tables.Count];
        for (var i = 0; i < selections.Length; i++)
            selections[i] = [];
        var joinPredicates = new Dictionary<(int, int), List<Predicate>>();
        var primaryKeyJoins = new ulong[tables.Count];
        foreach (var conjunct in conjuncts)
        {
            var used = new SortedSet<int>();
            foreach (var column in conjunct.Columns())
                used.Add(Resolve(query, column, aliases, tables));
            if (conjunct is Predicate { IsEquiJoin: true } join)
            {
                var a = aliases[join.Column.Alias];
                var b = aliases[join.OtherColumn!.Alias];
                var key = a < b ? (a, b) : (b, a);
                if (!joinPredicates.TryGetValue(key, out var list))
                    joinPredicates[key] = list = [];
                list.Add(join);
                if (join.Column.Column == tables[a].PrimaryKey)
                    primaryKeyJoins[a] |= 1UL << b;
                if (join.OtherColumn.Column == tables[b].PrimaryKey)
                    primaryKeyJoins[b] |= 1UL << a;
            }
            else if (used.Count == 1)
            {
                selections[used.Min].Add(conjunct);
            }
            else
            {
                throw new SqlSyntaxException($"The predicate '{Text(query, conjunct)}' at {At(query, conjunct.Offset)} spans several relations but is not an equality join; only equality joins between relations are supported.");
            }
        }

        var relations = new List<Relation>();
        for (var i = 0; i < tables.Count; i++)
        {
            var alias = query.From[i].Alias;
            var rows = tables[i].Rows * SelectionSelectivity(query, catalog, alias, tables[i], selections[i]);
            var text = string.Join(" AND ", selections[i].Select(c => Text(query, c)));
            relations.Add(new Relation(alias, tables[i].Name, tables[i].Rows, rows, text));
        }

        var edges = new List<JoinEdge>();
        foreach (var ((a, b), predicates) in joinPredicates.OrderBy(p => p.Key))
        {
            if (!catalog.TryGetPairRows(tables[a].Name, tables[b].Name, out var pairRows))
                throw new MissingStatisticsException($"No join statistics for tables '{tables[a].Name}' and '{tables[b].Name}' (aliases {relations[a].Alias}, {relations[b].Alias}); add '{tables[a].Name} , {tables[b].Name},<rows of their key join>' to stats/pairs.csv.");
            var selectivity = pairRows / (tables[a].Rows * tables[b].Rows);
            edges.Add(new JoinEdge(a, b, selectivity, string.Join(" AND ", predicates.Select(p => Text(query, p)))));
        }

        var graph = new QueryGraph(name, relations, edges, primaryKeyJoins);
        if (!graph.IsConnected(graph.All))
        {
            var reached = 1UL;
            while (true)
            {
                var next = reached | graph.NeighboursOf(reached);
                if (next == reached)
                    break;
                reached = next;
            }
            throw new QueryValidationException($"The join graph of '{name}' is disconnected: {{{graph.Describe(reached)}}} has no join predicate to {{{graph.Describe(graph.All & ~reached)}}}; cross products are not planned, add the missing join predicate.");
        }
        return graph;
    }

    private static void Flatten(Condition condition, List<Condition> into)
    {
        if (condition is AndCondition and)
        {
            foreach (var part in and.Parts)
                Flatten(part, into);
        }
        else
        {
            into.Add(condition);
        }
    }

    private static int Resolve(SqlQuery query, ColumnRef column, Dictionary<string, int> aliases, List<TableInfo> tables)
    {
        if (!aliases.TryGetValue(column.Alias, out var index))
            throw new QueryValidationException($"Unknown alias '{column.Alias}' in '{column.Alias}.{column.Column}' at {At(query, column.Offset)}; FROM declares: {string.Join(", ", aliases.Keys)}.");
        if (!tables[index].Columns.Contains(column.Column))
            throw new QueryValidationException($"Unknown column '{column.Alias}.{column.Column}' at {At(query, column.Offset)}: table '{tables[index].Name}' has columns {string.Join(", ", tables[index].Columns)}.");
        return index;
    }

    /// <summary>
    /// Selectivity of one relation's selections: the whole conjunction's row count when the statistics
    /// list it; otherwise the fewest contiguous groups of conjuncts that they list, multiplied as if
    /// independent.
    /// </summary>
    private static double SelectionSelectivity(SqlQuery query, Catalog catalog, string alias, TableInfo table, List<Condition> conjuncts)
    {
        var k = conjuncts.Count;
        if (k == 0)
            return 1;
        var texts = conjuncts.Select(c => Canonical(query, c)).ToArray();
        var groups = new int[k + 1];
        var selectivity = new double[k + 1];
        Array.Fill(groups, int.MaxValue);
        groups[0] = 0;
        selectivity[0] = 1;
        for (var end = 1; end <= k; end++)
        {
            for (var start = 0; start < end; start++)
            {
                if (groups[start] == int.MaxValue || groups[start] + 1 >= groups[end])
                    continue;
                var key = string.Join(" AND ", texts[start..end]);
                if (catalog.TryGetPredicateRows(key, out var rows))
                {
                    groups[end] = groups[start] + 1;
                    selectivity[end] = selectivity[start] * Math.Min(1, rows / table.Rows);
                }
            }
        }
        if (groups[k] != int.MaxValue)
            return selectivity[k];
        var missing = Enumerable.Range(0, k).First(i => !catalog.TryGetPredicateRows(texts[i], out _));
        throw new MissingStatisticsException($"No statistics for the selection '{Text(query, conjuncts[missing])}' on '{alias}' ({table.Name}) at {At(query, conjuncts[missing].Offset)}; add '{texts[missing]} :<rows after the filter>' to stats/predicates.csv.");
    }

    private static string Canonical(SqlQuery query, Condition condition) => SqlParser.Render(condition, query.Tokens);

    private static string Text(SqlQuery query, Condition condition) => Canonical(query, condition);

    private static string At(SqlQuery query, int offset) => SqlLexer.Position(query.Text, offset, query.Source);
}
