using System.CommandLine;

namespace RaySharp.Cli;

/// <summary><c>raysharp start --head | stop | status | list tasks|actors|objects | submit -- cmd | timeline</c>.</summary>
internal static class Program
{
    private static Task<int> Main(string[] args)
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
        return root.Parse(args).InvokeAsync();
    }
}
