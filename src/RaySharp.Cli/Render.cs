using System.Globalization;
using System.Text;
using System.Text.Json;
using RaySharp.Control;
using Spectre.Console;

namespace RaySharp.Cli;

/// <summary>Terminal tables for <c>status</c> and <c>list</c>, and the Chrome-trace form of a timeline.</summary>
internal static class Render
{
    public static void Status(ClusterStatus status)
    {
        foreach (var node in status.Nodes)
        {
            AnsiConsole.MarkupLine($"[bold]{node.NodeId}[/] (pid {node.Pid}{(node.Embedded ? ", embedded in a driver" : "")}) at {Markup.Escape(string.Join(", ", node.ControlAddresses))}");
            var resources = new Table().AddColumns("resource", "in use", "total");
            foreach (var r in node.Resources)
                resources.AddRow(Markup.Escape(r.Name), Number(r.Total - r.Available), Number(r.Total));
            AnsiConsole.Write(resources);

            var workers = new Table().AddColumns("worker", "pid", "kind", "state", "job", "running", "queued");
            foreach (var w in node.Workers)
                workers.AddRow(w.Id.ToString(CultureInfo.InvariantCulture), w.Pid.ToString(CultureInfo.InvariantCulture), w.Kind, w.State, w.JobId,
                    Markup.Escape(string.Join(", ", w.Running)), Markup.Escape(string.Join(", ", w.Queued)));
            AnsiConsole.Write(workers);

            var store = node.ObjectStore;
            AnsiConsole.MarkupLine(
                $"object store: {Bytes(store.UsedBytes)} of {Bytes(store.CapacityBytes)} used, {store.ObjectCount} objects, " +
                $"{store.SpilledCount} spilled ({Bytes(store.SpilledBytes)})");
            AnsiConsole.MarkupLine(
                $"{node.ObjectCount} objects known ({Bytes(node.InlineObjectBytes)} inline); {TaskLine(node.Tasks ?? new TaskCounts())}; " +
                $"{node.ActorCount} live actors; {node.Workers.Count} workers; {node.JobCount} jobs");
        }
    }

    private static string TaskLine(TaskCounts t) =>
        $"tasks: {t.WaitingForArguments} waiting for arguments, {t.Queued} queued, {t.QueuedOnWorker} queued on a worker, " +
        $"{t.Running} running, {t.Ended} ended";

    public static void Tasks(TaskList list)
    {
        var table = new Table().AddColumns("id", "name", "state", "worker pid");
        foreach (var t in list.Tasks)
            table.AddRow(t.TaskId, Markup.Escape(t.Name), t.State, t.WorkerPid == 0 ? "" : t.WorkerPid.ToString(CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{list.Tasks.Count} of {list.Total} tasks");
    }

    public static void Actors(ActorList list)
    {
        var table = new Table().AddColumns("id", "name", "type", "state", "restarts", "pid", "lifetime");
        foreach (var a in list.Actors)
            table.AddRow(a.ActorId, Markup.Escape(a.Name), Markup.Escape(a.TypeName), a.State, a.Restarts.ToString(CultureInfo.InvariantCulture), a.Pid == 0 ? "" : a.Pid.ToString(CultureInfo.InvariantCulture), a.Detached ? "detached" : "job");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{list.Actors.Count} actors");
    }

    public static void Objects(ObjectList list)
    {
        var table = new Table().AddColumns("id", "state", "inline bytes", "in store", "location");
        foreach (var o in list.Objects)
            table.AddRow(o.ObjectId, o.State, o.InlineBytes.ToString(CultureInfo.InvariantCulture), o.InStore ? "yes" : "", o.Location);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{list.Objects.Count} of {list.Total} objects");
    }

    /// <summary>The timeline as Chrome trace events (<c>{"traceEvents": [{"ph": "X", …}]}</c>): one complete event per task, a row per worker.</summary>
    public static string ChromeTrace(Timeline timeline)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteStartArray("traceEvents");
            foreach (var e in timeline.Events)
            {
                json.WriteStartObject();
                json.WriteString("name", e.Name);
                json.WriteString("cat", e.Failed ? "failed" : "task");
                json.WriteString("ph", "X");
                json.WriteNumber("ts", e.StartUs);
                json.WriteNumber("dur", e.DurationUs);
                json.WriteString("pid", timeline.NodeId);
                json.WriteNumber("tid", e.WorkerPid);
                json.WriteStartObject("args");
                json.WriteString("task", e.TaskId);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteString("displayTimeUnit", "ms");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Number(double v) => v.ToString(v >= 1 << 20 ? "N0" : "0.##", CultureInfo.InvariantCulture);

    private static string Bytes(long b) => b >= 1 << 30 ? $"{b / (double)(1 << 30):0.0} GiB" : $"{b / (double)(1 << 20):0.0} MiB";
}
