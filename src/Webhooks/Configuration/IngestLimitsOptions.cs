using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>Limits on what a publisher may send, from the <c>ingest</c> section of <c>silo.yaml</c>.</summary>
public sealed class IngestLimitsOptions
{
    public const string SectionName = "ingest";

    /// <summary>The largest payload accepted, in bytes of UTF-8 JSON; over HTTP a larger one gets 413.</summary>
    [ConfigurationKeyName("max_payload_bytes")]
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>How deeply a payload's objects and arrays may nest.</summary>
    [ConfigurationKeyName("max_json_depth")]
    public int MaxJsonDepth { get; set; } = 32;
}
