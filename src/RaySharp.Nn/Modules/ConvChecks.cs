namespace RaySharp.Nn;

/// <summary>Argument checks shared by the convolution layers' constructors.</summary>
internal static class ConvChecks
{
    public static void Validate(string layer, int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, int groups)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride < 1 || padding < 0 || dilation < 1 || groups < 1)
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"{layer} needs positive channels and kernel, stride >= 1, padding >= 0, dilation >= 1, groups >= 1; got in={inChannels}, out={outChannels}, kernel={kernelSize}, stride={stride}, padding={padding}, dilation={dilation}, groups={groups}.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), $"{layer}: groups ({groups}) must divide in={inChannels} and out={outChannels}.");
    }
}
