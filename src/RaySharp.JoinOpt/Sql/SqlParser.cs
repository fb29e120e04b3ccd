namespace RaySharp.JoinOpt.Sql;

/// <summary>A column reference <c>alias.column</c> and where it was written.</summary>
internal sealed record ColumnRef(string Alias, string Column, int Offset);

/// <summary>A <c>FROM</c> entry: table and alias.</summary>
internal sealed record FromItem(string Table, string Alias, int Offset);

/// <summary>A boolean condition of the <c>WHERE</c> clause.</summary>
internal abstract record Condition(int Offset, int End)
{
    /// <summary>Every column the condition reads.</summary>
    public abstract IEnumerable<ColumnRef> Columns();
}

/// <summary><c>a AND b AND …</c>.</summary>
internal sealed record AndCondition(IReadOnlyList<Condition> Parts, int Offset, int End) : Condition(Offset, End)
{
    public override IEnumerable<ColumnRef> Columns() => Parts.SelectMany(p => p.Columns());
}

/// <summary><c>a OR b OR …</c>.</summary>
internal sealed record OrCondition(IReadOnlyList<Condition> Parts, int Offset, int End) : Condition(Offset, End)
{
    public override IEnumerable<ColumnRef> Columns() => Parts.SelectMany(p => p.Columns());
}

/// <summary>A predicate on one column: comparison, LIKE, IN, BETWEEN or IS NULL (possibly against another column).</summary>
internal sealed record Predicate(ColumnRef Column, string Operator, ColumnRef? OtherColumn, int Offset, int End) : Condition(Offset, End)
{
    public override IEnumerable<ColumnRef> Columns() => OtherColumn is null ? [Column] : [Column, OtherColumn];

    /// <summary>True for <c>a.x = b.y</c> between two different aliases: a join predicate.</summary>
    public bool IsEquiJoin => Operator == "=" && OtherColumn is not null && OtherColumn.Alias != Column.Alias;
}

/// <summary>A parsed select-project-join query.</summary>
internal sealed record SqlQuery(string Source, string Text, IReadOnlyList<Token> Tokens, IReadOnlyList<FromItem> From, Condition? Where);

/// <summary>
/// Recursive-descent parser for the select-project-join subset the Join Order Benchmark uses:
/// <c>SELECT</c> of columns or aggregates of columns, <c>FROM</c> tables with aliases, and a <c>WHERE</c>
/// of equality joins and selections with = &lt;&gt; &lt; &gt; &lt;= &gt;= LIKE, NOT LIKE, IN, BETWEEN,
/// IS [NOT] NULL, AND/OR and parentheses. Anything else is a <see cref="SqlSyntaxException"/> naming the
/// construct and its position.
/// </summary>
internal sealed class SqlParser
{
    private readonly string _sql;
    private readonly string _source;
    private readonly List<Token> _tokens;
    private int _next;

    private SqlParser(string sql, string source)
    {
        _sql = sql;
        _source = source;
        _tokens = SqlLexer.Tokenize(sql, source);
    }

    public static SqlQuery Parse(string sql, string source = "query")
    {
        ArgumentNullException.ThrowIfNull(sql);
        var parser = new SqlParser(sql, source);
        return parser.ParseQuery();
    }

    /// <summary>Parses a bare condition (as the statistics list predicates) and renders it canonically.</summary>
    public static string CanonicalCondition(string text, string source)
    {
        var parser = new SqlParser(text, source);
        var condition = parser.ParseOr();
        if (parser.Peek.Kind != TokenKind.End)
            throw parser.Unsupported(parser.Peek, "Trailing text after the condition");
        return Render(condition, parser._tokens);
    }

    /// <summary>
    /// Canonical text of a condition: predicates as their tokens, AND parts joined by AND, OR groups
    /// in parentheses; redundant parentheses and spacing disappear.
    /// </summary>
    public static string Render(Condition condition, IReadOnlyList<Token> tokens) => condition switch
    {
        AndCondition and => string.Join(" AND ", and.Parts.Select(p => Render(p, tokens))),
        OrCondition or => "(" + string.Join(" OR ", or.Parts.Select(p => Render(p, tokens))) + ")",
        _ => SqlLexer.Canonical(tokens.Where(t => t.Offset >= condition.Offset && t.Offset < condition.End)),
    };

    private Token Peek => _tokens[_next];

    private Token Take() => _tokens[_next++];

    private string At(Token token) => SqlLexer.Position(_sql, token.Offset, _source);

    private SqlSyntaxException Unsupported(Token token, string what) =>
        new($"{what} at {At(token)} ('{(token.Kind == TokenKind.End ? "end of input" : token.Text)}') is outside the supported select-project-join subset (SELECT … FROM t AS a, … WHERE equality joins and selections combined with AND/OR).");

    private Token Expect(string keywordOrSymbol, string context)
    {
        var token = Take();
        if (!token.Is(keywordOrSymbol))
            throw new SqlSyntaxException($"Expected '{keywordOrSymbol}' {context} at {At(token)} but found '{(token.Kind == TokenKind.End ? "end of input" : token.Text)}'.");
        return token;
    }

    private SqlQuery ParseQuery()
    {
        Expect("SELECT", "at the start of the query");
        if (Peek.Is("DISTINCT"))
            throw Unsupported(Peek, "SELECT DISTINCT");
        do
            ParseSelectItem();
        while (TakeIf(","));
        Expect("FROM", "after the select list");
        var from = new List<FromItem>();
        do
            from.Add(ParseFromItem());
        while (TakeIf(","));
        if (Peek.Kind == TokenKind.Keyword && Peek.Text is "JOIN" or "INNER" or "LEFT" or "RIGHT" or "CROSS" or "ON")
            throw Unsupported(Peek, "Explicit JOIN syntax");
        Condition? where = null;
        if (TakeIf("WHERE"))
            where = ParseOr();
        TakeIf(";");
        if (Peek.Kind != TokenKind.End)
            throw Unsupported(Peek, Peek.Kind == TokenKind.Keyword ? $"The clause {Peek.Text}" : "Trailing text");
        return new SqlQuery(_source, _sql, _tokens, from, where);
    }

    private bool TakeIf(string keywordOrSymbol)
    {
        if (!Peek.Is(keywordOrSymbol))
            return false;
        _next++;
        return true;
    }

    private void ParseSelectItem()
    {
        if (TakeIf("*"))
            return;
        var first = Take();
        if (first.Kind != TokenKind.Identifier)
            throw Unsupported(first, "This select-list item");
        if (TakeIf("("))
        {
            if (first.Text is not ("min" or "max" or "count" or "sum" or "avg"))
                throw Unsupported(first, $"The function {first.Text.ToUpperInvariant()}");
            if (!TakeIf("*"))
                ParseColumnAfter(Take());
            Expect(")", "to close the aggregate");
        }
        else
        {
            ParseColumnAfter(first);
        }
        if (TakeIf("AS"))
        {
            var name = Take();
            if (name.Kind != TokenKind.Identifier)
                throw new SqlSyntaxException($"Expected an output column name after AS at {At(name)}.");
        }
    }

    private FromItem ParseFromItem()
    {
        var table = Take();
        if (table.Is("("))
            throw Unsupported(table, "A subquery in FROM");
        if (table.Kind != TokenKind.Identifier)
            throw new SqlSyntaxException($"Expected a table name in FROM at {At(table)} but found '{table.Text}'.");
        TakeIf("AS");
        if (Peek.Kind != TokenKind.Identifier)
            return new FromItem(table.Text, table.Text, table.Offset);
        var alias = Take();
        return new FromItem(table.Text, alias.Text, table.Offset);
    }

    private ColumnRef ParseColumnAfter(Token first)
    {
        if (first.Kind != TokenKind.Identifier)
            throw Unsupported(first, "This operand (a column alias.column was expected)");
        if (Peek.Is("("))
            throw Unsupported(first, $"The function {first.Text.ToUpperInvariant()}");
        if (!TakeIf("."))
            throw new SqlSyntaxException($"Column '{first.Text}' at {At(first)} must be qualified with its table alias (alias.column).");
        var column = Take();
        if (column.Kind != TokenKind.Identifier)
            throw new SqlSyntaxException($"Expected a column name after '{first.Text}.' at {At(column)}.");
        return new ColumnRef(first.Text, column.Text, first.Offset);
    }

    private Condition ParseOr()
    {
        var start = Peek.Offset;
        var parts = new List<Condition> { ParseAnd() };
        while (TakeIf("OR"))
            parts.Add(ParseAnd());
        return parts.Count == 1 ? parts[0] : new OrCondition(parts, start, parts[^1].End);
    }

    private Condition ParseAnd()
    {
        var start = Peek.Offset;
        var parts = new List<Condition> { ParsePrimary() };
        while (TakeIf("AND"))
            parts.Add(ParsePrimary());
        return parts.Count == 1 ? parts[0] : new AndCondition(parts, start, parts[^1].End);
    }

    private Condition ParsePrimary()
    {
        var token = Peek;
        if (TakeIf("("))
        {
            var inner = ParseOr();
            Expect(")", "to close the parenthesis");
            return inner;
        }
        if (token.Is("NOT") || token.Is("EXISTS"))
            throw Unsupported(token, token.Text == "NOT" ? "NOT before a condition (only NOT LIKE, NOT IN, NOT BETWEEN and IS NOT NULL are supported)" : "EXISTS");
        var column = ParseColumnAfter(Take());
        var op = Take();
        var negated = false;
        if (op.Is("NOT"))
        {
            negated = true;
            op = Take();
            if (!(op.Is("LIKE") || op.Is("IN") || op.Is("BETWEEN")))
                throw Unsupported(op, "NOT followed by this operator");
        }
        if (op.Is("IS"))
        {
            var not = TakeIf("NOT");
            var end = Expect("NULL", "after IS [NOT]");
            return new Predicate(column, not ? "IS NOT NULL" : "IS NULL", null, token.Offset, end.Offset + end.Length);
        }
        if (op.Is("LIKE"))
        {
            var pattern = Take();
            if (pattern.Kind != TokenKind.String)
                throw Unsupported(pattern, "A LIKE pattern that is not a string literal");
            return new Predicate(column, negated ? "NOT LIKE" : "LIKE", null, token.Offset, pattern.Offset + pattern.Length);
        }
        if (op.Is("IN"))
        {
            Expect("(", "after IN");
            if (Peek.Is("SELECT"))
                throw Unsupported(Peek, "A subquery in IN");
            do
                ExpectLiteral("in the IN list");
            while (TakeIf(","));
            var close = Expect(")", "to close the IN list");
            return new Predicate(column, negated ? "NOT IN" : "IN", null, token.Offset, close.Offset + 1);
        }
        if (op.Is("BETWEEN"))
        {
            ExpectLiteral("after BETWEEN");
            Expect("AND", "between the BETWEEN bounds");
            var high = ExpectLiteral("as the upper BETWEEN bound");
            return new Predicate(column, negated ? "NOT BETWEEN" : "BETWEEN", null, token.Offset, high.Offset + high.Length);
        }
        if (op.Kind == TokenKind.Symbol && op.Text is "=" or "<>" or "<" or ">" or "<=" or ">=")
        {
            var operand = Take();
            if (operand.Kind == TokenKind.Identifier)
            {
                var other = ParseColumnAfter(operand);
                return new Predicate(column, op.Text, other, token.Offset, _tokens[_next - 1].Offset + _tokens[_next - 1].Length);
            }
            if (operand.Kind is not (TokenKind.String or TokenKind.Number))
                throw Unsupported(operand, "This comparison operand (a literal or a column was expected)");
            return new Predicate(column, op.Text, null, token.Offset, operand.Offset + operand.Length);
        }
        throw Unsupported(op, $"The operator after {column.Alias}.{column.Column}");
    }

    private Token ExpectLiteral(string context)
    {
        var token = Take();
        if (token.Kind is not (TokenKind.String or TokenKind.Number))
            throw Unsupported(token, $"A non-literal value {context}");
        return token;
    }
}
