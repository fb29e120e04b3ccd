using System.CommandLine;

namespace RaySharp.Cli;

/// <summary><c>raysharp start --head | stop | status | list tasks|actors|objects | submit -- cmd | timeline</c>.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (Console.IsOutputRedirected)
            Spectre.Console.AnsiConsole.Profile.Width = 200; // scripts and logs get whole rows, not 80-column wraps
        var root = new RootCommand("RaySharp: start a node, inspect it, run drivers against it.");
        root.Subcommands.Add(Commands.Start());
        root.Subcommands.Add(Commands.Node());
        root.Subcommands.Add(Commands.Stop());
        root.Subcommands.Add(Commands.Status());
        root.Subcommands.Add(Commands.List());
        root.Subcommands.Add(Commands.Submit());
        root.Subcommands.Add(Commands.Kill());
        root.Subcommands.Add(Commands.Timeline());
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (RaySystemException e)
        {
            // The runtime folder is unusable (another user's, a link, …): the message says what to do.
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"raysharp failed unexpectedly: {e}");
            return 1;
        }
    }
}
