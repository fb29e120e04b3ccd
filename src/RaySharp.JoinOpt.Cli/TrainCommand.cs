using System.CommandLine;
using System.Diagnostics;
using RaySharp.JoinOpt.Dq;

namespace RaySharp.JoinOpt.Cli;

/// <summary>
/// <c>joinopt train</c>: trains DQ on every .sql file of a folder and saves the model. Data generation and
/// training run as RaySharp tasks on an embedded cluster (or the one at <c>RAYSHARP_ADDRESS</c>), or on
/// this process's thread pool with <c>--in-process</c> (the saved model is byte-identical).
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var defaults = new DqOptions();
        var cost = CommonOptions.Cost(allowAll: false);
        var queries = new Option<DirectoryInfo>("--queries")
        {
            Description = "The folder of .sql files to train on. Default: the data directory's queries/.",
            HelpName = "DIR",
        };
        queries.AcceptExistingOnly();
        var epochs = CommonOptions.AtLeastOne("--epochs", defaults.Epochs, "Training epochs (DqOptions.Epochs).");
        var output = new Option<FileInfo?>("--out")
        {
            Description = "Where to save the model. Default: dq-COST.safetensors in the working directory.",
            HelpName = "FILE",
        };
        output.Validators.Add(r =>
        {
            var path = CommonOptions.PathOf(r);
            if (path is not null && Directory.Exists(path))
                r.AddError($"--out '{path}' is a directory; give a file name, e.g. {Path.Combine(path, "dq.safetensors")}.");
            else if (path is not null && !Directory.Exists(Path.GetDirectoryName(path)))
                r.AddError($"--out '{path}': the folder '{Path.GetDirectoryName(path)}' does not exist.");
        });
        var inProcess = new Option<bool>("--in-process") { Description = "Run on this process's thread pool instead of RaySharp tasks." };
        var data = CommonOptions.Data();
        var command = new Command("train", "Train DQ on a folder of queries and save the model.") { cost, queries, epochs, output, inProcess, data };
        CommonOptions.RefuseOptionsAsValues(command);
        command.SetAction((result, cancel) => CommonOptions.RunAsync(result, async writer =>
        {
            var (catalog, directory) = CommonOptions.LoadCatalog(result, data);
            var model = CostModel.Parse(result.GetValue(cost)!);
            var folder = result.GetValue(queries)?.FullName ?? Path.Combine(directory, "queries");
            var path = result.GetValue(output)?.FullName ?? $"dq-{model.Name}.safetensors";
            var options = defaults with { Epochs = result.GetValue(epochs) };
            var files = Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new JoinOptException($"No .sql files in '{folder}'; give a folder of queries with --queries DIR.");
            var graphs = files.Select(f => QueryGraph.FromFile(f, catalog)).ToList();
            // In-process training runs one thread per query; OpenBLAS threads would only contend with them.
            RaySharp.Nn.Blas.Threads = 1;
            var clock = Stopwatch.StartNew();
            DqOptimizer dq;
            var where = result.GetValue(inProcess) ? "thread pool" : "RaySharp tasks";
            if (result.GetValue(inProcess))
            {
                dq = DqOptimizer.Train(catalog, graphs, model, options, ThreadPoolTaskRunner.Default, cancel);
            }
            else
            {
                await using var ray = await Ray.InitAsync(cancellationToken: cancel);
                dq = DqOptimizer.Train(catalog, graphs, model, options, new RayTaskRunner(ray), cancel);
            }
            dq.Save(path);
            await writer.WriteLineAsync($"trained DQ for {model.Name} on {graphs.Count} queries in {clock.Elapsed.TotalSeconds:F1} s ({where}); saved {path}");
            return 0;
        }));
        return command;
    }
}
