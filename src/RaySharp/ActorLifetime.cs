namespace RaySharp;

/// <summary>How long an actor lives (<see cref="ActorOptions.Lifetime"/>, <see cref="ActorBuilder{T}.WithLifetime"/>).</summary>
public enum ActorLifetime
{
    /// <summary>
    /// The default: the actor belongs to the job (driver) that created it and is killed when that driver
    /// disconnects or disposes its <see cref="Ray"/> (Ray's non-detached actors), unless killed earlier.
    /// </summary>
    JobScoped,

    /// <summary>
    /// The actor outlives the driver that created it: it lives until it is killed (<see cref="Ray.Kill{T}"/>,
    /// <c>raysharp kill</c>) or its node stops (Ray's <c>lifetime="detached"</c>). Name it
    /// (<see cref="ActorBuilder{T}.WithName"/>) so later drivers can find it with <see cref="Ray.GetActorAsync{T}"/>.
    /// An embedded cluster stops with its driver, so a detached actor needs a standalone node
    /// (<c>raysharp start --head</c>, <see cref="RayNode"/>) to outlive anything.
    /// </summary>
    Detached,
}
