namespace RaySharp.Nn;

/// <summary>Elementwise nonlinearities used between layers.</summary>
public enum Activation
{
    /// <summary>No nonlinearity: f(x) = x.</summary>
    Identity,

    /// <summary>max(x, 0).</summary>
    ReLU,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,

    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,

    /// <summary>x·Φ(x), the exact Gaussian error linear unit.</summary>
    Gelu,

    /// <summary>log(1 + e^x).</summary>
    Softplus,
}
