using RaySharp.Nn;

namespace RaySharp.RLlib.Envs;

/// <summary>
/// The track both Gymnasium mountain cars drive on (<see cref="MountainCar"/> and
/// <see cref="MountainCarContinuous"/>): its bounds, the start distribution and the shared
/// velocity/position update, so the two environments differ only in how an action becomes a push.
/// </summary>
internal static class MountainCarTrack
{
    public const double MinPosition = -1.2;
    public const double MaxPosition = 0.6;
    public const double MaxSpeed = 0.07;
    public const double Gravity = 0.0025;

    /// <summary>Observation [x, v] bounded by the track and the speed limit.</summary>
    public static readonly Box ObservationSpace = new([(float)MinPosition, (float)-MaxSpeed], [(float)MaxPosition, (float)MaxSpeed]);

    /// <summary>Start position, uniform in [-0.6, -0.4] (the start speed is 0).</summary>
    public static double StartPosition(Rng rng) => -0.6 + 0.2 * rng.NextDouble();

    /// <summary>
    /// One step: v ← clip(v + push - 0.0025·cos 3x, ±0.07); x ← clip(x + v, [-1.2, 0.6]), with v set
    /// to 0 when the car hits the left wall.
    /// </summary>
    public static (double Position, double Velocity) Step(double position, double velocity, double push)
    {
        var v = Math.Clamp(velocity + push - Gravity * Math.Cos(3 * position), -MaxSpeed, MaxSpeed);
        var x = Math.Clamp(position + v, MinPosition, MaxPosition);
        if (x == MinPosition && v < 0) v = 0;
        return (x, v);
    }
}
