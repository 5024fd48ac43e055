namespace Webhooks.Silo.Hosting;

/// <summary>The <c>orleans</c> section of <c>silo.yaml</c>: how this silo joins its cluster.</summary>
internal sealed class SiloHostOptions
{
    public const string SectionName = "orleans";

    [ConfigurationKeyName("cluster_id")]
    public string ClusterId { get; set; } = "webhooks-dev";

    [ConfigurationKeyName("service_id")]
    public string ServiceId { get; set; } = "webhooks";

    /// <summary>Port for silo-to-silo traffic.</summary>
    [ConfigurationKeyName("silo_port")]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port that external Orleans clients connect to.</summary>
    [ConfigurationKeyName("gateway_port")]
    public int GatewayPort { get; set; } = 30000;
}

/// <summary>The <c>development</c> section of <c>silo.yaml</c>.</summary>
internal sealed class DevelopmentOptions
{
    public const string SectionName = "development";

    /// <summary>Serves the debug receiver at <c>/dev/receiver</c>, which records every delivery posted to it.</summary>
    [ConfigurationKeyName("receiver")]
    public bool Receiver { get; set; }
}
