using System.Text.Json;
using System.Text.Json.Nodes;

namespace RaySharp.Tune;

/// <summary>Reads JSON scalars back into the CLR values a <see cref="TrialConfig"/> holds.</summary>
internal static class JsonValues
{
    /// <summary>int for whole numbers that fit, else double; strings, booleans, null.</summary>
    public static object? ToObject(JsonNode? node)
    {
        if (node is null)
            return null;
        using var document = JsonDocument.Parse(node.ToJsonString());
        var element = document.RootElement;
        return element.ValueKind switch
        {
            JsonValueKind.Number when element.TryGetInt32(out var i) && !element.GetRawText().Contains('.', StringComparison.Ordinal) => i,
            JsonValueKind.Number => element.GetDouble(),
            JsonValueKind.String => element.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            _ => element.GetRawText(),
        };
    }
}
