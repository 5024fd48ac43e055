using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>
/// Limits on what a publisher may send, and how the event stream looks for events, from the <c>ingest</c> section of
/// <c>silo.yaml</c>.
/// </summary>
public sealed class IngestLimitsOptions
{
    public const string SectionName = "ingest";

    /// <summary>The largest payload accepted, in bytes of UTF-8 JSON; over HTTP a larger one gets 413.</summary>
    [ConfigurationKeyName("max_payload_bytes")]
    public int MaxPayloadBytes { get; set; } = 256 * 1024;

    /// <summary>How deeply a payload's objects and arrays may nest.</summary>
    [ConfigurationKeyName("max_json_depth")]
    public int MaxJsonDepth { get; set; } = 32;

    /// <summary>
    /// How often an idle stream queue looks for events published from other processes (an external Orleans client's
    /// gateway). Events published in the silo itself (its HTTP API, a co-hosted gateway) wake their queue at once.
    /// Shorter costs idle CPU; longer delays external clients' events.
    /// </summary>
    [ConfigurationKeyName("stream_poll_interval")]
    public TimeSpan StreamPollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Whether <see cref="StreamPollInterval"/> is within what the silo accepts: 1 ms to 1 s.</summary>
    internal bool HasValidStreamPollInterval => StreamPollInterval >= TimeSpan.FromMilliseconds(1) && StreamPollInterval <= TimeSpan.FromSeconds(1);
}
