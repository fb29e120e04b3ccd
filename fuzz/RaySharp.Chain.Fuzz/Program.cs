using SharpFuzz;

namespace RaySharp.Chain.Fuzz;

/// <summary>
/// Fuzz targets for Chain's frame decoders (<see cref="DecoderTargets"/>), for SharpFuzz with libFuzzer or AFL++;
/// how to run them: README.md beside this file. <c>--replay FILE...</c> runs inputs once without a fuzzer (a crash
/// found by the fuzzer, before it becomes a regression test); <c>--write-corpus DIR</c> writes the seed inputs.
/// </summary>
internal static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--replay")
        {
            foreach (var file in args.Skip(1))
                Console.WriteLine($"{file}: {(DecoderTargets.Run(File.ReadAllBytes(file)) ? "accepted" : "refused")}");
            return;
        }
        if (args.Length == 2 && args[0] == "--write-corpus")
        {
            // One well-formed input per decoder: the fuzzer's starting points.
            Directory.CreateDirectory(args[1]);
            for (var d = 0; d < DecoderTargets.Count; d++)
                File.WriteAllBytes(Path.Combine(args[1], $"decoder-{d}"), DecoderTargets.ValidInput(d));
            return;
        }
        if (args.Length > 0 && args[0] == "--afl")
        {
            Fuzzer.Run(stream =>
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                DecoderTargets.Run(copy.ToArray());
            });
            return;
        }
        Fuzzer.LibFuzzer.Run(input => DecoderTargets.Run(input));
    }
}
