using RaySharp.Chain.Controller;

namespace RaySharp.Chain.Tests;

/// <summary>The controller's settings are checked before it starts, with a message that names the setting.</summary>
public sealed class ControllerOptionsTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(10_001)]
    public void A_recovery_delay_outside_zero_to_ten_seconds_is_refused(int milliseconds)
    {
        var options = new ChainControllerOptions { RecoveryDelay = TimeSpan.FromMilliseconds(milliseconds) };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("RecoveryDelay", error.Message);
    }

    [Fact]
    public void The_shortest_failure_timeout_is_valid_with_the_default_recovery_delay() =>
        new ChainControllerOptions { FailureTimeout = TimeSpan.FromMilliseconds(50) }.Validate();
}
