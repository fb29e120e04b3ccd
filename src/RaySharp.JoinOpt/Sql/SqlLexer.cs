using System.Text;

namespace RaySharp.JoinOpt.Sql;

/// <summary>The kinds of token in the select-project-join subset.</summary>
internal enum TokenKind
{
    Identifier,
    Keyword,
    String,
    Number,
    Symbol,
    End,
}

/// <summary>One token: its kind, its canonical text and where it starts in the source.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, int Offset, int Length)
{
    public bool Is(string keywordOrSymbol) =>
        (Kind is TokenKind.Keyword or TokenKind.Symbol) && Text == keywordOrSymbol;
}

/// <summary>
/// Splits SQL text into tokens. Keywords are upper-cased, identifiers lower-cased, <c>!=</c> is read as
/// <c>&lt;&gt;</c>; string literals keep their text exactly (with <c>''</c> escapes resolved).
/// </summary>
internal static class SqlLexer
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "SELECT", "FROM", "WHERE", "AS", "AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS", "NULL",
        "JOIN", "ON", "INNER", "LEFT", "RIGHT", "OUTER", "CROSS", "GROUP", "ORDER", "BY", "HAVING",
        "UNION", "LIMIT", "EXISTS", "DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "END", "ILIKE",
    };

    public static List<Token> Tokenize(string sql, string source)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n')
                    i++;
                continue;
            }
            var start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < sql.Length && (char.IsLetterOrDigit(sql[i]) || sql[i] == '_'))
                    i++;
                var word = sql[start..i];
                var upper = word.ToUpperInvariant();
                tokens.Add(Keywords.Contains(upper)
                    ? new Token(TokenKind.Keyword, upper, start, i - start)
                    : new Token(TokenKind.Identifier, word.ToLowerInvariant(), start, i - start));
            }
            else if (char.IsDigit(c))
            {
                while (i < sql.Length && (char.IsDigit(sql[i]) || sql[i] == '.'))
                    i++;
                tokens.Add(new Token(TokenKind.Number, sql[start..i], start, i - start));
            }
            else if (c == '\'')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= sql.Length)
                        throw new SqlSyntaxException($"Unterminated string literal starting at {Position(sql, start, source)}; close it with a single quote.");
                    if (sql[i] == '\'')
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == '\'')
                        {
                            text.Append('\'');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    text.Append(sql[i++]);
                }
                tokens.Add(new Token(TokenKind.String, text.ToString(), start, i - start));
            }
            else
            {
                var two = i + 1 < sql.Length ? sql.Substring(i, 2) : "";
                string symbol;
                if (two is "<>" or "!=" or "<=" or ">=")
                {
                    symbol = two == "!=" ? "<>" : two;
                    i += 2;
                }
                else if ("=<>(),.;*".Contains(c, StringComparison.Ordinal))
                {
                    symbol = c.ToString();
                    i++;
                }
                else
                {
                    throw new SqlSyntaxException($"Unexpected character '{c}' at {Position(sql, start, source)}; the supported subset has identifiers, numbers, quoted strings and = <> != < > <= >= ( ) , . ;");
                }
                tokens.Add(new Token(TokenKind.Symbol, symbol, start, i - start));
            }
        }
        tokens.Add(new Token(TokenKind.End, "", sql.Length, 0));
        return tokens;
    }

    /// <summary>Renders tokens in canonical form, so that spacing and keyword case do not matter.</summary>
    public static string Canonical(IEnumerable<Token> tokens)
    {
        var text = new StringBuilder();
        Token? previous = null;
        foreach (var token in tokens)
        {
            if (token.Kind == TokenKind.End)
                break;
            var glue = previous is { } p && (p.Is(".") || token.Is(".") || p.Is("(") || token.Is(")") || token.Is(","));
            if (previous is not null && !glue)
                text.Append(' ');
            text.Append(token.Kind == TokenKind.String ? "'" + token.Text.Replace("'", "''", StringComparison.Ordinal) + "'" : token.Text);
            previous = token;
        }
        return text.ToString();
    }

    /// <summary><c>source:line:column</c> of an offset, 1-based.</summary>
    public static string Position(string sql, int offset, string source)
    {
        var line = 1;
        var column = 1;
        for (var i = 0; i < offset && i < sql.Length; i++)
        {
            if (sql[i] == '\n')
            {
                line++;
                column = 1;
            }
            else
            {
                column++;
            }
        }
        return $"{source}:{line}:{column}";
    }
}
