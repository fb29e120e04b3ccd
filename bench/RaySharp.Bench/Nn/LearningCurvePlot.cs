using ScottPlot;

namespace RaySharp.Bench.Nn;

/// <summary>The CNN's learning curve: running training loss and test accuracy after each epoch.</summary>
internal static class LearningCurvePlot
{
    public static void Write(string path, IReadOnlyList<(double Epoch, double Loss, double Accuracy)> curve)
    {
        var plot = new Plot();
        var loss = plot.Add.Scatter(curve.Select(c => c.Epoch).ToArray(), curve.Select(c => c.Loss).ToArray());
        loss.LegendText = "training loss (running mean over the epoch)";
        var epochs = curve.Where(c => !double.IsNaN(c.Accuracy)).ToArray();
        var accuracy = plot.Add.Scatter(epochs.Select(c => c.Epoch).ToArray(), epochs.Select(c => c.Accuracy).ToArray());
        accuracy.LegendText = "test accuracy (%)";
        accuracy.Axes.YAxis = plot.Axes.Right;
        accuracy.MarkerSize = 8;
        plot.Title("Fashion-MNIST CNN (RaySharp.Nn), batch 256, Adam 1e-3");
        plot.XLabel("epoch");
        plot.Axes.Left.Label.Text = "cross-entropy loss";
        plot.Axes.Right.Label.Text = "test accuracy (%)";
        plot.ShowLegend(Alignment.UpperCenter);
        plot.SavePng(path, 900, 550);
    }
}
