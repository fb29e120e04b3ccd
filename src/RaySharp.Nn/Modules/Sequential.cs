namespace RaySharp.Nn;

/// <summary>Applies modules one after another; parameters are named by position (<c>0.weight</c>, …).</summary>
public sealed class Sequential : Module
{
    private readonly Module[] _modules;

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        _modules = modules;
        for (var i = 0; i < modules.Length; i++) RegisterModule(i.ToString(System.Globalization.CultureInfo.InvariantCulture), modules[i]);
    }

    /// <summary>The modules in order.</summary>
    public IReadOnlyList<Module> Modules => _modules;

    /// <summary>
    /// Applies the modules in order. When no gradient is recorded (inside <see cref="Tensor.NoGrad"/>,
    /// or for inputs and parameters that need none), a <see cref="Conv2d"/> followed by an
    /// <see cref="ActivationLayer"/> (ReLU, Tanh or Sigmoid) and/or a <see cref="MaxPool2d"/> runs as
    /// one fused pass, as inference engines fuse them: the same values, without allocating the
    /// full-size convolution and activation outputs.
    /// </summary>
    public override Tensor Forward(Tensor input)
    {
        for (var i = 0; i < _modules.Length; i++)
        {
            if (_modules[i] is Conv2d conv && !Records(input, conv))
            {
                var (fused, last) = FuseAfter(i);
                if (last > i)
                {
                    input = Tensor.Conv2dFused(input, conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, fused.Activation, fused.MaxPool);
                    i = last;
                    continue;
                }
            }
            input = _modules[i].Forward(input);
        }
        return input;
    }

    private static bool Records(Tensor input, Conv2d conv) =>
        Tensor.IsGradEnabled && (input.RequiresGrad || conv.Weight.RequiresGrad || (conv.Bias?.RequiresGrad ?? false));

    /// <summary>The activation and max pooling that directly follow the convolution at <paramref name="at"/>, and the index of the last module fused.</summary>
    private ((Activation Activation, (int Kernel, int Stride, int Padding)? MaxPool) Fused, int Last) FuseAfter(int at)
    {
        var (activation, next) = (Activation.Identity, at + 1);
        if (next < _modules.Length && _modules[next] is ActivationLayer { Activation: Activation.ReLU or Activation.Tanh or Activation.Sigmoid } act)
            (activation, next) = (act.Activation, next + 1);
        (int, int, int)? pool = null;
        if (next < _modules.Length && _modules[next] is MaxPool2d p)
            (pool, next) = ((p.KernelSize, p.Stride, p.Padding), next + 1);
        return ((activation, pool), next - 1);
    }
}
