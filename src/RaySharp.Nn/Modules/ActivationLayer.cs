namespace RaySharp.Nn;

/// <summary>A parameter-free module applying an <see cref="Nn.Activation"/> (for use in <see cref="Sequential"/>).</summary>
public sealed class ActivationLayer(Activation activation) : Module
{
    /// <summary>The activation applied.</summary>
    public Activation Activation { get; } = activation;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Apply(Activation);
    }
}
