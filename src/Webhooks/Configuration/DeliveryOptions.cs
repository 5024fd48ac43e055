using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>The <c>delivery</c> section of <c>silo.yaml</c>: how each tenant's events are sent.</summary>
public sealed class DeliveryOptions
{
    public const string SectionName = "delivery";

    /// <summary>How long one delivery may take, from connecting to the end of the response headers.</summary>
    [ConfigurationKeyName("timeout")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many deliveries one tenant may have in flight at once.</summary>
    [ConfigurationKeyName("max_concurrency")]
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>
    /// How many deliveries this silo may have in flight across all tenants. A tenant whose deliveries time out or
    /// cannot connect is given fewer of them, down to one, until it answers again.
    /// </summary>
    [ConfigurationKeyName("max_in_flight")]
    public int MaxInFlight { get; set; } = 256;

    /// <summary>
    /// How many undelivered events this silo may hold across all tenants; past it, publishers get backpressure even for
    /// tenants with room of their own.
    /// </summary>
    [ConfigurationKeyName("max_pending")]
    public int MaxPending { get; set; } = 100_000;

    /// <summary>How many events one tenant may have waiting for delivery; past it, publishers get backpressure.</summary>
    [ConfigurationKeyName("buffer_size")]
    public int BufferSize { get; set; } = 1024;

    /// <summary>How much of a response body is kept for the failure log.</summary>
    [ConfigurationKeyName("response_excerpt_bytes")]
    public int ResponseExcerptBytes { get; set; } = 512;

    /// <summary>The <c>User-Agent</c> header on deliveries.</summary>
    [ConfigurationKeyName("user_agent")]
    public string UserAgent { get; set; } = "Webhooks.Orleans/0.1";

    /// <summary>
    /// The waits before each retry of a failed delivery; the first attempt is made at once. Null means
    /// <see cref="DefaultRetrySchedule"/>. A tenant may set its own in <c>tenants.yaml</c>.
    /// </summary>
    [ConfigurationKeyName("retry_schedule")]
    public List<TimeSpan>? RetrySchedule { get; set; }

    /// <summary>Each wait of the schedule varies by up to this fraction either way, so that retries do not come in waves.</summary>
    [ConfigurationKeyName("retry_jitter")]
    public double RetryJitter { get; set; } = 0.2;

    /// <summary>The longest <c>Retry-After</c> (on a 429 or 503) that is honoured; a longer one is cut to this.</summary>
    [ConfigurationKeyName("max_retry_after")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many of its latest delivery attempts each tenant keeps.</summary>
    [ConfigurationKeyName("history_size")]
    public int HistorySize { get; set; } = 100;

    /// <summary>An endpoint whose attempts have all failed for this long is disabled.</summary>
    [ConfigurationKeyName("auto_disable_after")]
    public TimeSpan AutoDisableAfter { get; set; } = TimeSpan.FromDays(5);

    /// <summary>An endpoint with this many failed attempts in a row is disabled; 0 turns the count off.</summary>
    [ConfigurationKeyName("auto_disable_failures")]
    public int AutoDisableFailures { get; set; }

    /// <summary>Svix's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the first attempt.</summary>
    public static IReadOnlyList<TimeSpan> DefaultRetrySchedule { get; } =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
        TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>The schedule in force when a tenant sets none.</summary>
    public IReadOnlyList<TimeSpan> EffectiveRetrySchedule => RetrySchedule ?? DefaultRetrySchedule;
}
