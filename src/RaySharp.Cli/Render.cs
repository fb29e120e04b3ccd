using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace RaySharp.Cli;

/// <summary>Tables for <c>status</c> and <c>list</c> from the node's status JSON.</summary>
internal static class Render
{
    public static void Status(JsonElement s)
    {
        AnsiConsole.MarkupLine($"[bold]{Text(s, "node")}[/] at {Markup.Escape(Text(s, "address"))}");
        var resources = new Table().AddColumns("resource", "available", "total");
        foreach (var total in s.GetProperty("resources_total").EnumerateObject())
        {
            var available = s.GetProperty("resources_available").TryGetProperty(total.Name, out var a) ? a.GetDouble() : 0;
            resources.AddRow(total.Name, Number(available), Number(total.Value.GetDouble()));
        }
        AnsiConsole.Write(resources);

        var workers = new Table().AddColumns("worker", "pid", "kind", "state", "running");
        foreach (var w in s.GetProperty("workers").EnumerateArray())
        {
            workers.AddRow(w.GetProperty("id").ToString(), w.GetProperty("pid").ToString(), Text(w, "kind"), Text(w, "state"),
                Markup.Escape(string.Join(", ", w.GetProperty("running").EnumerateArray().Select(r => r.GetString()))));
        }
        AnsiConsole.Write(workers);

        var store = s.GetProperty("object_store");
        var used = store.GetProperty("UsedBytes").GetInt64();
        var capacity = store.GetProperty("CapacityBytes").GetInt64();
        AnsiConsole.MarkupLine(
            $"objects: {s.GetProperty("objects").GetProperty("count")} known; store {Bytes(used)} of {Bytes(capacity)} used " +
            $"({store.GetProperty("ObjectCount")} objects, {store.GetProperty("SpilledCount")} spilled); " +
            $"{s.GetProperty("tasks").GetArrayLength()} tasks queued or running; {s.GetProperty("actors").GetArrayLength()} actors");
    }

    public static void List(JsonElement s, string kind)
    {
        var (property, columns) = kind switch
        {
            "tasks" => ("tasks", new[] { "id", "name", "state" }),
            "actors" => ("actors", new[] { "id", "name", "type", "state", "restarts", "pid" }),
            _ => ("objects_list", new[] { "id", "state", "bytes", "location" }),
        };
        var table = new Table().AddColumns(columns);
        var rows = 0;
        foreach (var item in s.GetProperty(property).EnumerateArray())
        {
            table.AddRow(columns.Select(c => Markup.Escape(item.GetProperty(c).ToString())).ToArray());
            rows++;
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{rows} {kind}");
    }

    private static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "";

    private static string Number(double v) => v.ToString(v >= 1 << 20 ? "N0" : "0.##", CultureInfo.InvariantCulture);

    private static string Bytes(long b) => b >= 1 << 30 ? $"{b / (double)(1 << 30):0.0} GiB" : $"{b / (double)(1 << 20):0.0} MiB";
}
