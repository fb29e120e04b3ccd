using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public sealed class DataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("raysharp-nn-data-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Sample i has input [i, -i] and target i.</summary>
    private static TensorDataset Numbered(int count) => new(
        Tensor.FromArray(Enumerable.Range(0, count).SelectMany(i => new[] { (float)i, -i }).ToArray(), count, 2),
        Tensor.FromArray(Enumerable.Range(0, count).Select(i => (float)i).ToArray(), count));

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    public void Every_sample_appears_once_per_epoch_with_its_own_input_and_target(bool shuffle, int prefetch)
    {
        var loader = new DataLoader(Numbered(23), batchSize: 5, shuffle: shuffle, seed: 3, prefetch: prefetch);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            var batches = loader.ToList();
            Assert.Equal(5, batches.Count);
            Assert.Equal(new[] { 5, 5, 5, 5, 3 }, batches.Select(b => b.Inputs.Size(0)));
            var seen = batches.SelectMany(b => b.Labels()).ToList();
            Assert.Equal(Enumerable.Range(0, 23), seen.Order());
            if (!shuffle) Assert.Equal(Enumerable.Range(0, 23), seen);
            foreach (var b in batches)
                for (var i = 0; i < b.Indices.Length; i++)
                {
                    Assert.Equal(b.Indices[i], b.Inputs[i, 0]);
                    Assert.Equal(-b.Indices[i], b.Inputs[i, 1]);
                    Assert.Equal(b.Indices[i], b.Targets[i]);
                }
        }
    }

    [Fact]
    public void Shuffling_is_seeded_and_changes_between_epochs()
    {
        var a = new DataLoader(Numbered(50), 10, shuffle: true, seed: 7);
        var b = new DataLoader(Numbered(50), 10, shuffle: true, seed: 7);
        var first = a.SelectMany(x => x.Indices).ToArray();
        Assert.Equal(first, b.SelectMany(x => x.Indices).ToArray());
        Assert.NotEqual(first, a.SelectMany(x => x.Indices).ToArray());
        Assert.NotEqual(Enumerable.Range(0, 50), first);
        Assert.NotEqual(first, new DataLoader(Numbered(50), 10, shuffle: true, seed: 8).SelectMany(x => x.Indices).ToArray());
    }

    [Fact]
    public void Drop_last_skips_the_short_final_batch()
    {
        var loader = new DataLoader(Numbered(23), 5, shuffle: true, dropLast: true);
        Assert.Equal(4, loader.Count);
        var batches = loader.ToList();
        Assert.All(batches, b => Assert.Equal(5, b.Indices.Length));
        Assert.Equal(20, batches.SelectMany(b => b.Indices).Distinct().Count());
    }

    [Fact]
    public void A_failing_sample_surfaces_in_the_consumer_and_stopping_early_releases_the_prefetcher()
    {
        var loader = new DataLoader(new Failing(), 4, prefetch: 1);
        var e = Assert.Throws<InvalidOperationException>(() => loader.ToList());
        Assert.Equal("sample 9 is unreadable", e.Message);
        // Take one batch of a long epoch and stop: the producer, blocked on a full channel, must end.
        var first = new DataLoader(Numbered(1000), 2, prefetch: 1).First();
        Assert.Equal(new[] { 0, 1 }, first.Indices);
    }

    private sealed class Failing : Dataset
    {
        public override int Count => 20;

        public override ReadOnlySpan<int> InputShape => new[] { 1 };

        public override ReadOnlySpan<int> TargetShape => ReadOnlySpan<int>.Empty;

        public override void Fill(int index, Span<float> input, Span<float> target)
        {
            if (index == 9) throw new InvalidOperationException("sample 9 is unreadable");
            input[0] = target[0] = index;
        }
    }

    [Theory]
    [InlineData(".gz")]
    [InlineData("")]
    public void Fashion_mnist_reads_idx_files_scaled_to_unit_range(string suffix)
    {
        var pixels = Enumerable.Range(0, 3 * 28 * 28).Select(i => (byte)(i % 256)).ToArray();
        Idx.Write(Path.Combine(_dir, "t10k-images-idx3-ubyte" + suffix), [3, 28, 28], pixels);
        Idx.Write(Path.Combine(_dir, "t10k-labels-idx1-ubyte" + suffix), [3], [9, 0, 4]);
        var data = FashionMnist.Load(train: false, _dir);
        Assert.Equal(3, data.Count);
        Assert.Equal(new[] { 3, 1, 28, 28 }, data.Inputs.ShapeArray());
        Assert.Equal(1f, data.Inputs[0, 0, 9, 3]); // element 9·28 + 3 = 255 holds 255
        Assert.Equal(18f / 255f, data.Inputs[1, 0, 0, 2]); // element 786 holds 786 mod 256 = 18
        Assert.Equal([9f, 0, 4], data.Targets.ToArray());
        Assert.Equal("Ankle boot", FashionMnist.Classes[9]);
    }

    [Fact]
    public void A_missing_data_set_names_the_debian_package()
    {
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(train: true, _dir));
        Assert.Contains("dataset-fashion-mnist", e.Message);
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void Bad_idx_files_say_what_is_wrong()
    {
        var path = Path.Combine(_dir, "bad");
        File.WriteAllBytes(path, [1, 2, 3, 4]);
        Assert.Contains("idx magic", Assert.Throws<InvalidDataException>(() => Idx.Read(path)).Message);
        File.WriteAllBytes(path, [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Contains("type 0x0d", Assert.Throws<InvalidDataException>(() => Idx.Read(path)).Message);
        File.WriteAllBytes(path, [0, 0, 0x08, 1, 0, 0, 0, 5, 1, 2]);
        Assert.Contains("needs 5 bytes of data, found 2", Assert.Throws<InvalidDataException>(() => Idx.Read(path)).Message);
        Idx.Write(Path.Combine(_dir, "train-images-idx3-ubyte"), [2, 2, 2], new byte[8]);
        Idx.Write(Path.Combine(_dir, "train-labels-idx1-ubyte"), [3], [1, 2, 3]);
        Assert.Contains("do not match", Assert.Throws<InvalidDataException>(() => FashionMnist.Load(true, _dir)).Message);
    }

    [Fact]
    public void The_installed_fashion_mnist_test_split_has_ten_thousand_labelled_images_or_a_clear_error()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory))
        {
            Assert.Contains("apt-get install dataset-fashion-mnist", Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(false)).Message);
            return;
        }
        var test = FashionMnist.Load(train: false);
        Assert.Equal(10_000, test.Count);
        var counts = new int[10];
        foreach (var label in test.Targets.ToArray()) counts[(int)label]++;
        Assert.All(counts, c => Assert.Equal(1000, c)); // the test split is balanced
        Assert.InRange(test.Inputs.ToArray().Max(), 0.99f, 1f);
    }
}
