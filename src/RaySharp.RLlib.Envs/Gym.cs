namespace RaySharp.RLlib.Envs;

/// <summary>Creates environments by their Gymnasium id (<c>gym.make</c>).</summary>
public static class Gym
{
    private static readonly Dictionary<string, Func<Env>> Registry = new(StringComparer.Ordinal)
    {
        ["CartPole-v1"] = () => new CartPole(),
        ["Pendulum-v1"] = () => new Pendulum(),
        ["MountainCar-v0"] = () => new MountainCar(),
        ["MountainCarContinuous-v0"] = () => new MountainCarContinuous(),
        ["Acrobot-v1"] = () => new Acrobot(),
    };

    /// <summary>Every id <see cref="Make"/> accepts.</summary>
    public static IReadOnlyCollection<string> Ids => Registry.Keys;

    /// <summary>A new environment with the given id.</summary>
    /// <exception cref="ArgumentException">The id is unknown.</exception>
    public static Env Make(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Registry.TryGetValue(id, out var make)
            ? make()
            : throw new ArgumentException($"Unknown environment '{id}'; known: {string.Join(", ", Registry.Keys)}.", nameof(id));
    }

    /// <summary><paramref name="count"/> copies of the environment <paramref name="id"/>, stepped together on <paramref name="threads"/> threads.</summary>
    public static VectorEnv MakeVector(string id, int count, int threads = 1)
    {
        Make(id); // validates the id with its message
        return new VectorEnv(Registry[id], count, threads);
    }
}
