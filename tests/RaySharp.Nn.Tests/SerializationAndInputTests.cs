using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public sealed class SerializationAndInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nn-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_saved_mlp_loads_into_a_differently_seeded_one_and_computes_the_same_outputs()
    {
        var a = new Mlp(4, [8, 8], 2, rng: new Rng(1));
        var b = new Mlp(4, [8, 8], 2, rng: new Rng(2));
        var x = Tensor.Uniform(new Rng(3), -1, 1, 5, 4);
        Assert.NotEqual(a.Forward(x).ToArray(), b.Forward(x).ToArray());
        var path = Path.Combine(_dir, "mlp.safetensors");
        a.Save(path);
        b.Load(path);
        Assert.Equal(a.Forward(x).ToArray(), b.Forward(x).ToArray());
    }

    [Fact]
    public void Safetensors_files_follow_the_published_layout()
    {
        var path = Path.Combine(_dir, "t.safetensors");
        Safetensors.Save(path, [("w", Tensor.FromArray([1, 2, 3, 4, 5, 6], 2, 3))], new Dictionary<string, string> { ["format"] = "pt" });
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength);
        Assert.Contains("\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}", header);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 24, bytes.Length);
        Assert.Equal(6f, BitConverter.ToSingle(bytes, 8 + headerLength + 20));
        Assert.Equal("pt", Safetensors.ReadMetadata(path)["format"]);
        Assert.Equal([1f, 2, 3, 4, 5, 6], Safetensors.Load(path)["w"].ToArray());
    }

    [Fact]
    public void Loading_parameters_of_another_shape_names_both_shapes()
    {
        var path = Path.Combine(_dir, "small.safetensors");
        new Mlp(4, [8], 2, rng: new Rng(1)).Save(path);
        var e = Assert.Throws<InvalidDataException>(() => new Mlp(4, [16], 2, rng: new Rng(1)).Load(path));
        Assert.Contains("[8, 4]", e.Message);
        Assert.Contains("[16, 4]", e.Message);
    }

    [Fact]
    public void Shape_mismatches_name_both_shapes()
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(4, 5);
        Assert.Contains("[2, 3] and [4, 5]", Assert.Throws<ArgumentException>(() => a + b).Message);
        Assert.Contains("[2, 3] × [4, 5]", Assert.Throws<ArgumentException>(() => a.MatMul(b)).Message);
        var linear = Assert.Throws<ArgumentException>(() => new Linear(4, 2, rng: new Rng(0)).Forward(a)).Message;
        Assert.Contains("[2, 3]", linear);
        Assert.Contains("[2, 4]", linear);
        Assert.Contains("[2, 3] and [4, 5]", Assert.Throws<ArgumentException>(() => Loss.Mse(a, b)).Message);
        Assert.Contains("[2, 3]", Assert.Throws<ArgumentException>(() => a.Reshape(4, 2)).Message);
        Assert.Contains("[1, 2, 3, 4, 5]", Assert.Throws<ArgumentException>(() => Tensor.Zeros(1, 2, 3, 4, 5)).Message);
    }

    [Fact]
    public void Gradients_and_backward_seeds_must_match_the_tensor_shape()
    {
        var p = Tensor.Zeros(2, 3);
        p.RequiresGrad = true;
        Assert.Contains("[2, 3]", Assert.Throws<ArgumentException>(() => p.Grad = Tensor.Zeros(3, 2)).Message);
        var y = p * 2f;
        var e = Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Zeros(6)));
        Assert.Contains("[6]", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Throws<InvalidOperationException>(() => y.Backward());
    }

    [Fact]
    public void Reshape_and_slice_are_views_of_the_same_storage()
    {
        var t = Tensor.FromArray([0, 1, 2, 3, 4, 5], 3, 2);
        var row = t.Slice(1, 1).Reshape(2);
        row.Span[0] = 42;
        Assert.Equal(42, t[1, 0]);
        Assert.Equal(new[] { 4f, 5f }, t.Select(2).ToArray());
    }

    [Fact]
    public void The_same_seed_initialises_the_same_parameters()
    {
        var a = new Mlp(3, [5], 2, rng: new Rng(99)).Parameters().SelectMany(p => p.ToArray());
        var b = new Mlp(3, [5], 2, rng: new Rng(99)).Parameters().SelectMany(p => p.ToArray());
        Assert.Equal(a, b);
    }
}
