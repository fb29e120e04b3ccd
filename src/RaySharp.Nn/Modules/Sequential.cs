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

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        foreach (var m in _modules) input = m.Forward(input);
        return input;
    }
}
