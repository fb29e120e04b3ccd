using System.Threading.Channels;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RaySharp.Tune;

/// <summary>
/// Where <see cref="TuneOptions.Progress"/> goes. On an interactive terminal (the writer is the console's
/// and its output is not redirected) the table is redrawn in place with Spectre.Console's live display;
/// anywhere else (a file, a pipe, a CI log) each update is one plain status line, and the full table is
/// written once at the end.
/// </summary>
internal abstract class ProgressDisplay : IAsyncDisposable
{
    /// <summary>Trials shown in the table.</summary>
    public const int Rows = 10;

    /// <summary>Shows nothing (no <see cref="TuneOptions.Progress"/>).</summary>
    public static ProgressDisplay None { get; } = new PlainProgressDisplay(TextWriter.Null);

    public static ProgressDisplay Create(TextWriter writer) =>
        ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected
            && AnsiConsole.Profile.Capabilities is { Ansi: true, Interactive: true }
            ? new LiveProgressDisplay(AnsiConsole.Console)
            : new PlainProgressDisplay(writer);

    /// <summary>A periodic update while the experiment runs.</summary>
    public abstract void Update(ResultGrid grid, string status);

    /// <summary>The final state, once the experiment has ended.</summary>
    public abstract void Complete(ResultGrid grid, string status);

    public abstract ValueTask DisposeAsync();
}

/// <summary>One status line per update; the status line and the table at the end.</summary>
internal sealed class PlainProgressDisplay(TextWriter writer) : ProgressDisplay
{
    public override void Update(ResultGrid grid, string status)
    {
        writer.WriteLine(status);
        writer.Flush();
    }

    public override void Complete(ResultGrid grid, string status)
    {
        writer.WriteLine(status);
        writer.Write(grid.ToTable(Rows));
        writer.Flush();
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Spectre.Console's live display, run by a background task that owns the display context; the
/// experiment loop hands it finished renderables (only the latest one matters) and never waits on it.
/// </summary>
internal sealed class LiveProgressDisplay : ProgressDisplay
{
    private readonly Channel<IRenderable> _views = Channel.CreateBounded<IRenderable>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly Task _display;

    public LiveProgressDisplay(IAnsiConsole console)
    {
        _display = console.Live(new Text("Tune: starting…"))
            .AutoClear(false)
            .Overflow(VerticalOverflow.Ellipsis)
            .StartAsync(async context =>
            {
                await foreach (var view in _views.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    context.UpdateTarget(view);
                    context.Refresh();
                }
            });
    }

    public override void Update(ResultGrid grid, string status) => _views.Writer.TryWrite(Render(grid, status));

    public override void Complete(ResultGrid grid, string status)
    {
        _views.Writer.TryWrite(Render(grid, status));
        _views.Writer.TryComplete();
    }

    public override async ValueTask DisposeAsync()
    {
        _views.Writer.TryComplete();
        await _display.ConfigureAwait(false);
    }

    internal static IRenderable Render(ResultGrid grid, string status)
    {
        var (header, rows, more) = grid.TableRows(Rows);
        var table = new Table().Border(TableBorder.Simple);
        foreach (var column in header)
            table.AddColumn(new TableColumn(Markup.Escape(column)));
        foreach (var row in rows)
            table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
        if (more > 0)
            table.Caption($"… {more} more trials");
        return new Rows(new Text(status), table);
    }
}
