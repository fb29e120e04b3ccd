using System.Globalization;
using System.Text;
using RaySharp.Protocol;

namespace RaySharp.Runtime.Scheduling;

/// <summary>Amounts of named resources: <c>CPU</c>, <c>memory</c> (bytes) and any custom name.</summary>
internal sealed class ResourceSet
{
    public const string Cpu = "CPU";
    public const string Memory = "memory";

    private readonly Dictionary<string, double> _amounts;

    public ResourceSet(Dictionary<string, double> amounts) => _amounts = amounts;

    public static ResourceSet Of(ResourceDemand demand)
    {
        var amounts = new Dictionary<string, double>(StringComparer.Ordinal);
        if (demand.Cpus > 0) amounts[Cpu] = demand.Cpus;
        if (demand.MemoryBytes > 0) amounts[Memory] = demand.MemoryBytes;
        if (demand.Custom is not null)
        {
            foreach (var (k, v) in demand.Custom)
            {
                if (v > 0) amounts[k] = v;
            }
        }
        return new ResourceSet(amounts);
    }

    public IReadOnlyDictionary<string, double> Amounts => _amounts;

    public double this[string name] => _amounts.GetValueOrDefault(name);

    /// <summary>True if every amount in <paramref name="demand"/> is available here.</summary>
    public bool Covers(ResourceSet demand)
    {
        foreach (var (k, v) in demand._amounts)
        {
            if (_amounts.GetValueOrDefault(k) + 1e-9 < v)
                return false;
        }
        return true;
    }

    public void Subtract(ResourceSet demand)
    {
        foreach (var (k, v) in demand._amounts)
            _amounts[k] = _amounts.GetValueOrDefault(k) - v;
    }

    public void Add(ResourceSet demand)
    {
        foreach (var (k, v) in demand._amounts)
            _amounts[k] = _amounts.GetValueOrDefault(k) + v;
    }

    public ResourceSet Clone() => new(new Dictionary<string, double>(_amounts, StringComparer.Ordinal));

    /// <summary>A canonical text, also the key of the queue of tasks with this shape.</summary>
    public override string ToString()
    {
        if (_amounts.Count == 0)
            return "{}";
        var text = new StringBuilder("{");
        foreach (var (k, v) in _amounts.OrderBy(p => p.Key, StringComparer.Ordinal))
            text.Append(text.Length > 1 ? ", " : "").Append(k).Append(": ").Append(v.ToString(k == Memory ? "N0" : "0.##", CultureInfo.InvariantCulture));
        return text.Append('}').ToString();
    }
}
