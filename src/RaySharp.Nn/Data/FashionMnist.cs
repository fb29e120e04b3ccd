namespace RaySharp.Nn;

/// <summary>
/// The Fashion-MNIST data set (Xiao, Rasul and Vollgraf; 28×28 grey images of 10 kinds of clothing,
/// 60 000 for training and 10 000 for testing) from its idx files, as shipped by Debian's
/// <c>dataset-fashion-mnist</c> package in <see cref="DefaultDirectory"/>
/// (<c>apt-get install dataset-fashion-mnist</c>).
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's package puts the files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>The class names, by label.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Loads the training or test split as inputs [M, 1, 28, 28] scaled to [0, 1] and targets [M]
    /// (class indices), from <paramref name="directory"/> (default <see cref="DefaultDirectory"/>),
    /// reading <c>train-images-idx3-ubyte</c> and <c>train-labels-idx1-ubyte</c> (or <c>t10k-…</c>),
    /// each optionally gzip-compressed.
    /// </summary>
    /// <exception cref="FileNotFoundException">A file is missing (the message says how to install the package).</exception>
    /// <exception cref="InvalidDataException">The files are not image and label idx files that match.</exception>
    public static TensorDataset Load(bool train, string? directory = null)
    {
        directory ??= DefaultDirectory;
        var prefix = train ? "train" : "t10k";
        var (imageShape, pixels) = Idx.Read(Find(directory, $"{prefix}-images-idx3-ubyte"));
        var (labelShape, labels) = Idx.Read(Find(directory, $"{prefix}-labels-idx1-ubyte"));
        if (imageShape.Length != 3 || labelShape.Length != 1 || imageShape[0] != labelShape[0])
            throw new InvalidDataException($"Fashion-MNIST in '{directory}': images {Tensor.FormatShape(imageShape)} and labels {Tensor.FormatShape(labelShape)} do not match ([M, H, W] and [M]).");
        var inputs = new float[pixels.Length];
        for (var i = 0; i < inputs.Length; i++) inputs[i] = pixels[i] / 255f;
        var targets = new float[labels.Length];
        for (var i = 0; i < targets.Length; i++)
        {
            if (labels[i] >= Classes.Count)
                throw new InvalidDataException($"Fashion-MNIST in '{directory}': label {i} is {labels[i]}, outside 0–9.");
            targets[i] = labels[i];
        }
        return new TensorDataset(Tensor.Wrap(inputs, imageShape[0], 1, imageShape[1], imageShape[2]), Tensor.Wrap(targets, labels.Length));
    }

    private static string Find(string directory, string name)
    {
        foreach (var candidate in new[] { name, name + ".gz" })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path)) return path;
        }
        throw new FileNotFoundException(
            $"Fashion-MNIST file '{name}' (or '{name}.gz') is not in '{directory}'. Install Debian's dataset-fashion-mnist package " +
            $"(apt-get install dataset-fashion-mnist, which puts the files in {DefaultDirectory}) or pass the directory that holds the idx files.",
            Path.Combine(directory, name));
    }
}
