using RaySharp.Nn;

namespace RaySharp.Nn.Tests;

public class RecurrentTests
{
    private static double Sig(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>Row r of W·v + b, in double.</summary>
    private static double Affine(Tensor w, Tensor? b, int r, double[] v)
    {
        double s = b is null ? 0 : b[r];
        for (var j = 0; j < v.Length; j++) s += w[r, j] * v[j];
        return s;
    }

    /// <summary>A scalar-loop LSTM or GRU over time-major input [T, N, in], written from the equations.</summary>
    private static (double[][][] Output, double[][][] H, double[][][] C) Naive(Recurrent net, Tensor x, Tensor? h0, Tensor? c0, bool lstm)
    {
        int steps = x.Size(0), batch = x.Size(1), hs = net.HiddenSize;
        var seq = new double[steps][][];
        for (var t = 0; t < steps; t++)
        {
            seq[t] = new double[batch][];
            for (var b = 0; b < batch; b++) seq[t][b] = Enumerable.Range(0, x.Size(2)).Select(i => (double)x[t, b, i]).ToArray();
        }
        var hOut = new double[net.Layers][][];
        var cOut = new double[net.Layers][][];
        for (var l = 0; l < net.Layers; l++)
        {
            var next = new double[steps][][];
            hOut[l] = new double[batch][];
            cOut[l] = new double[batch][];
            for (var b = 0; b < batch; b++)
            {
                var h = Enumerable.Range(0, hs).Select(k => h0 is null ? 0.0 : h0[l, b, k]).ToArray();
                var c = Enumerable.Range(0, hs).Select(k => c0 is null ? 0.0 : c0[l, b, k]).ToArray();
                for (var t = 0; t < steps; t++)
                {
                    var v = seq[t][b];
                    double Xi(int r) => Affine(net.WeightIH(l), net.BiasIH(l), r, v);
                    double Hh(int r) => Affine(net.WeightHH(l), net.BiasHH(l), r, h);
                    var nh = new double[hs];
                    for (var k = 0; k < hs; k++)
                    {
                        if (lstm)
                        {
                            double i = Sig(Xi(k) + Hh(k)), f = Sig(Xi(hs + k) + Hh(hs + k)), g = Math.Tanh(Xi(2 * hs + k) + Hh(2 * hs + k)), o = Sig(Xi(3 * hs + k) + Hh(3 * hs + k));
                            c[k] = f * c[k] + i * g;
                            nh[k] = o * Math.Tanh(c[k]);
                        }
                        else
                        {
                            double r = Sig(Xi(k) + Hh(k)), z = Sig(Xi(hs + k) + Hh(hs + k)), n = Math.Tanh(Xi(2 * hs + k) + r * Hh(2 * hs + k));
                            nh[k] = (1 - z) * n + z * h[k];
                        }
                    }
                    h = nh;
                    next[t] ??= new double[batch][];
                    next[t][b] = h;
                }
                (hOut[l][b], cOut[l][b]) = (h, c);
            }
            seq = next;
        }
        return (seq, hOut, cOut);
    }

    [Fact]
    public void One_lstm_step_matches_the_equations_by_hand()
    {
        var lstm = new Lstm(1, 1, rng: new Rng(1));
        // weights 0.5 everywhere, biases 0: gates all see 0.5·x + 0.5·h.
        foreach (var p in lstm.Parameters()) p.Span.Fill(p.Rank == 2 ? 0.5f : 0f);
        var (y, h, c) = lstm.Forward(Tensor.FromArray([2f], 1, 1, 1), Tensor.FromArray([1f], 1, 1, 1), Tensor.FromArray([-1f], 1, 1, 1));
        double a = 0.5 * 2 + 0.5 * 1, i = Sig(a), f = Sig(a), g = Math.Tanh(a), o = Sig(a);
        var cExpected = f * -1 + i * g;
        Assert.Equal(cExpected, c.Item(), 6);
        Assert.Equal(o * Math.Tanh(cExpected), h.Item(), 6);
        Assert.Equal(h.Item(), y.Item());
    }

    [Fact]
    public void One_gru_step_matches_the_equations_by_hand()
    {
        var gru = new Gru(1, 1, rng: new Rng(1));
        foreach (var p in gru.Parameters()) p.Span.Fill(p.Rank == 2 ? 0.5f : 0.25f);
        var (_, h) = gru.Forward(Tensor.FromArray([2f], 1, 1, 1), Tensor.FromArray([1f], 1, 1, 1));
        double xi = 0.5 * 2 + 0.25, hh = 0.5 * 1 + 0.25, r = Sig(xi + hh), z = Sig(xi + hh), n = Math.Tanh(xi + r * hh);
        Assert.Equal((1 - z) * n + z * 1, h.Item(), 6);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void Multi_layer_networks_match_a_scalar_implementation_with_initial_states(bool lstm, bool batchFirst)
    {
        Recurrent net = lstm ? new Lstm(3, 4, layers: 2, batchFirst: batchFirst, rng: new Rng(2)) : new Gru(3, 4, layers: 2, batchFirst: batchFirst, rng: new Rng(2));
        var x = GradCheck.Random(3, 5, 2, 3); // [T, N, in]
        var h0 = GradCheck.Random(4, 2, 2, 4);
        var c0 = GradCheck.Random(5, 2, 2, 4);
        var input = batchFirst ? x.Transpose(0, 1) : x;
        var (output, h, c) = net is Lstm l ? l.Forward(input, h0, c0) : (((Gru)net).Forward(input, h0).Output, ((Gru)net).Forward(input, h0).H, null);
        var (seq, hn, cn) = Naive(net, x, h0, lstm ? c0 : null, lstm);
        Assert.Equal(batchFirst ? [2, 5, 4] : new[] { 5, 2, 4 }, output.ShapeArray());
        for (var t = 0; t < 5; t++)
            for (var b = 0; b < 2; b++)
                for (var k = 0; k < 4; k++)
                    Assert.Equal(seq[t][b][k], batchFirst ? output[b, t, k] : output[t, b, k], 5);
        for (var layer = 0; layer < 2; layer++)
            for (var b = 0; b < 2; b++)
                for (var k = 0; k < 4; k++)
                {
                    Assert.Equal(hn[layer][b][k], h[layer, b, k], 5);
                    if (c is not null) Assert.Equal(cn[layer][b][k], c[layer, b, k], 5);
                }
    }

    [Fact]
    public void Lstm_has_correct_gradients_for_input_states_and_every_parameter()
    {
        var lstm = new Lstm(2, 3, layers: 2, batchFirst: true, rng: new Rng(6));
        Tensor[] inputs = [GradCheck.Random(7, 2, 3, 2), GradCheck.Random(8, 2, 2, 3), GradCheck.Random(9, 2, 2, 3), .. lstm.Parameters()];
        GradCheck.Check(t =>
        {
            var (y, h, c) = lstm.Forward(t[0], t[1], t[2]);
            return Tensor.Concat([y.Reshape(-1), h.Reshape(-1), c.Reshape(-1)], 0);
        }, inputs);
    }

    [Fact]
    public void Gru_has_correct_gradients_for_input_state_and_every_parameter()
    {
        var gru = new Gru(2, 3, layers: 2, rng: new Rng(10));
        Tensor[] inputs = [GradCheck.Random(11, 3, 2, 2), GradCheck.Random(12, 2, 2, 3), .. gru.Parameters()];
        GradCheck.Check(t =>
        {
            var (y, h) = gru.Forward(t[0], t[1]);
            return Tensor.Concat([y.Reshape(-1), h.Reshape(-1)], 0);
        }, inputs);
    }

    [Fact]
    public void Recurrent_parameters_have_pytorch_names_shapes_and_initialisation()
    {
        var lstm = new Lstm(5, 8, layers: 2, rng: new Rng(13));
        Assert.Equal(new[] { "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1" },
            lstm.NamedParameters().Select(p => p.Name));
        Assert.Equal(new[] { 32, 5 }, lstm.WeightIH(0).ShapeArray());
        Assert.Equal(new[] { 32, 8 }, lstm.WeightIH(1).ShapeArray());
        var bound = 1f / MathF.Sqrt(8);
        Assert.All(lstm.Parameters().SelectMany(p => p.ToArray()), v => Assert.InRange(v, -bound, bound));
        Assert.Equal(new[] { 24, 8 }, new Gru(3, 8, bias: false, rng: new Rng(1)).WeightHH(0).ShapeArray());
    }

    [Fact]
    public void Bad_recurrent_inputs_say_which_shape_was_expected()
    {
        var lstm = new Lstm(3, 4, layers: 2, batchFirst: true, rng: new Rng(1));
        var e = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(2, 5, 4)));
        Assert.Contains("[N, T, in] with in = 3", e.Message);
        var s = Assert.Throws<ArgumentException>(() => lstm.Forward(Tensor.Zeros(2, 5, 3), Tensor.Zeros(1, 2, 4), null));
        Assert.Contains("[2, 2, 4]", s.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Gru(3, 0));
    }
}
