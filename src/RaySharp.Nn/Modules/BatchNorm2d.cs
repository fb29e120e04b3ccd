namespace RaySharp.Nn;

/// <summary>Batch normalisation of [N, C, H, W] inputs (PyTorch's <c>BatchNorm2d</c>); see <see cref="BatchNorm"/>.</summary>
/// <remarks>Creates the layer for <paramref name="features"/> channels.</remarks>
/// <exception cref="ArgumentOutOfRangeException">A size is not positive, ε is not positive or momentum is outside [0, 1].</exception>
public sealed class BatchNorm2d(int features, float epsilon = 1e-5f, float momentum = 0.1f, bool affine = true)
    : BatchNorm(features, epsilon, momentum, affine, [4], "[N, C, H, W]");
