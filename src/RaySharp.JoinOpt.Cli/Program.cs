using System.CommandLine;

namespace RaySharp.JoinOpt.Cli;

/// <summary>
/// <c>joinopt plan FILE.sql …</c> plans one SQL file and prints each plan tree with estimated rows and
/// cumulative costs; <c>joinopt train …</c> trains DQ on a folder of queries and saves the model, which
/// <c>plan --method DQ --model FILE</c> then uses. Arguments are parsed by System.CommandLine: unknown
/// flags, missing values and bad values are refused before anything runs.
/// </summary>
internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        var root = new RootCommand("joinopt: plan SQL join orders with the classical enumerators or DQ, and train DQ models.");
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        return root.Parse(args).InvokeAsync();
    }
}
