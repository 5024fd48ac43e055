using Microsoft.Extensions.Options;

namespace Webhooks.Configuration;

/// <summary>Collects the failures of one <c>silo.yaml</c> section, each naming the file and the field.</summary>
internal sealed class SectionChecks(ConfigurationOrigin origin, string section)
{
    private readonly List<string> _failures = [];

    public SectionChecks Check(bool ok, string key, string message)
    {
        if (!ok)
        {
            _failures.Add($"{origin.Describe($"{section}:{key}")}: field '{section}.{key}' {message}");
        }

        return this;
    }

    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
}

/// <summary>Checks the <c>delivery</c> section of <c>silo.yaml</c> at start-up.</summary>
internal sealed class DeliveryOptionsValidator(ConfigurationOrigin origin) : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options) => new SectionChecks(origin, DeliveryOptions.SectionName)
        .Check(options.Timeout > TimeSpan.Zero, "timeout", "must be a positive duration such as 00:00:10")
        .Check(options.MaxConcurrency is >= 1 and <= 10_000, "max_concurrency", "must be between 1 and 10000")
        .Check(options.BufferSize is >= 1 and <= 1_000_000, "buffer_size", "must be between 1 and 1000000")
        .Check(options.MaxInFlight is >= 1 and <= 100_000, "max_in_flight", "must be between 1 and 100000")
        .Check(options.MaxPending is >= 1 and <= 100_000_000, "max_pending", "must be between 1 and 100000000")
        .Check(options.ResponseExcerptBytes is >= 0 and <= 65_536, "response_excerpt_bytes", "must be between 0 and 65536")
        .Check(HttpHeaderRules.CheckValue(options.UserAgent) is null && options.UserAgent.Length > 0, "user_agent", "must be non-empty printable ASCII")
        .Check(RetrySchedules.Problem(options.RetrySchedule) is null, "retry_schedule", RetrySchedules.Problem(options.RetrySchedule) ?? "")
        .Check(options.RetryJitter is >= 0 and < 1, "retry_jitter", "must be at least 0 and below 1")
        .Check(options.MaxRetryAfter >= TimeSpan.Zero, "max_retry_after", "must not be negative")
        .Check(options.HistorySize is >= 0 and <= 10_000, "history_size", "must be between 0 and 10000")
        .Check(options.AutoDisableAfter > TimeSpan.Zero, "auto_disable_after", "must be a positive duration")
        .Check(options.AutoDisableFailures >= 0, "auto_disable_failures", "must be 0 (off) or more")
        .Result;
}

/// <summary>Checks the <c>failed</c>, <c>idempotency</c> and <c>storage</c> sections of <c>silo.yaml</c>.</summary>
internal sealed class ReliabilityOptionsValidator(ConfigurationOrigin origin)
    : IValidateOptions<FailedEventOptions>, IValidateOptions<IdempotencyOptions>, IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, FailedEventOptions options) => new SectionChecks(origin, FailedEventOptions.SectionName)
        .Check(options.MaxPerTenant is >= 0 and <= 100_000, "max_per_tenant", "must be between 0 and 100000")
        .Check(options.Retention > TimeSpan.Zero, "retention", "must be a positive duration such as 7.00:00:00")
        .Result;

    public ValidateOptionsResult Validate(string? name, IdempotencyOptions options) => new SectionChecks(origin, IdempotencyOptions.SectionName)
        .Check(options.Window >= TimeSpan.Zero, "window", "must not be negative")
        .Check(options.MaxKeys >= 0, "max_keys", "must not be negative")
        .Result;

    public ValidateOptionsResult Validate(string? name, StorageOptions options) => new SectionChecks(origin, StorageOptions.SectionName)
        .Check(
            string.Equals(options.Provider, StorageProviders.Memory, StringComparison.OrdinalIgnoreCase) || options.IsDurable,
            "provider",
            $"'{options.Provider}' is not a storage provider; expected {StorageProviders.Memory} or {StorageProviders.Redis}")
        .Check(!options.IsDurable || !string.IsNullOrWhiteSpace(options.Redis), "redis", "is required when the provider is redis")
        .Check(options.FlushInterval > TimeSpan.Zero, "flush_interval", "must be a positive duration")
        .Check(options.WakePeriod >= TimeSpan.FromSeconds(1), "wake_period", "must be at least 00:00:01")
        .Result;
}

/// <summary>What makes a retry schedule usable.</summary>
internal static class RetrySchedules
{
    public const int MaxRetries = 100;

    public static string? Problem(IReadOnlyList<TimeSpan>? schedule) => schedule switch
    {
        null => null,
        { Count: > MaxRetries } => $"has {schedule.Count} retries; the limit is {MaxRetries}",
        _ when schedule.Any(wait => wait < TimeSpan.Zero || wait > TimeSpan.FromDays(30)) => "waits must be between 00:00:00 and 30.00:00:00",
        _ => null,
    };
}

/// <summary>Checks the <c>security</c> section of <c>silo.yaml</c>.</summary>
internal sealed class SecurityOptionsValidator(ConfigurationOrigin origin) : IValidateOptions<Security.SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, Security.SecurityOptions options)
    {
        var checks = new SectionChecks(origin, Security.SecurityOptions.SectionName);
        foreach (var network in options.AllowedNetworks)
        {
            checks.Check(System.Net.IPNetwork.TryParse(network, out _), "allowed_networks", $"'{network}' is not a network in CIDR form, such as 10.1.0.0/16");
        }

        return checks.Result;
    }
}

/// <summary>Checks the limits of the <c>ingest</c> section of <c>silo.yaml</c>.</summary>
internal sealed class IngestLimitsValidator(ConfigurationOrigin origin) : IValidateOptions<IngestLimitsOptions>
{
    public ValidateOptionsResult Validate(string? name, IngestLimitsOptions options) => new SectionChecks(origin, IngestLimitsOptions.SectionName)
        .Check(options.MaxPayloadBytes is >= 1024 and <= 16 * 1024 * 1024, "max_payload_bytes", "must be between 1024 and 16777216")
        // The delivery writes a payload into its envelope with System.Text.Json, which reads no deeper than 64: a deeper
        // payload would be accepted and then fail every attempt.
        .Check(options.MaxJsonDepth is >= 2 and <= 64, "max_json_depth", "must be between 2 and 64")
        .Check(options.HasValidStreamPollInterval, "stream_poll_interval", "must be between 00:00:00.001 and 00:00:01")
        .Result;
}
