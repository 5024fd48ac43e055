using Microsoft.Extensions.Configuration;

namespace Webhooks.Configuration;

/// <summary>The <c>failed</c> section of <c>silo.yaml</c>: the events given up on, kept for replay.</summary>
public sealed class FailedEventOptions
{
    public const string SectionName = "failed";

    /// <summary>How many failed events each tenant keeps; past it the oldest is dropped, counted and logged.</summary>
    [ConfigurationKeyName("max_per_tenant")]
    public int MaxPerTenant { get; set; } = 1000;

    /// <summary>How long a failed event is kept; after it, it expires, counted and logged.</summary>
    [ConfigurationKeyName("retention")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>The <c>idempotency</c> section of <c>silo.yaml</c>: how long an event id stays taken.</summary>
public sealed class IdempotencyOptions
{
    public const string SectionName = "idempotency";

    /// <summary>An event whose id the tenant accepted within this window is not delivered again.</summary>
    [ConfigurationKeyName("window")]
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(24);

    /// <summary>With memory storage, how many ids each silo remembers at most; the oldest are forgotten first.</summary>
    [ConfigurationKeyName("max_keys")]
    public int MaxKeys { get; set; } = 100_000;
}

/// <summary>The <c>storage</c> section of <c>silo.yaml</c>: where tenant state (retries, failed events, history) lives.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "storage";

    /// <summary>The Orleans grain storage provider that holds tenant state.</summary>
    public const string GrainStorageName = "Webhooks";

    /// <summary><c>memory</c> (the default: lost when the silo stops) or <c>redis</c> (durable).</summary>
    [ConfigurationKeyName("provider")]
    public string Provider { get; set; } = StorageProviders.Memory;

    /// <summary>The Redis connection string, used when <see cref="Provider"/> is <c>redis</c>.</summary>
    [ConfigurationKeyName("redis")]
    public string Redis { get; set; } = "localhost:6379";

    /// <summary>With Redis storage, how often the attempt history is written (other state is written as it changes).</summary>
    [ConfigurationKeyName("flush_interval")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a reminder wakes a tenant that has pending work, so that it resumes after a restart.</summary>
    [ConfigurationKeyName("wake_period")]
    public TimeSpan WakePeriod { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether an acknowledged event survives a silo crash.</summary>
    public bool IsDurable => string.Equals(Provider, StorageProviders.Redis, StringComparison.OrdinalIgnoreCase);
}

/// <summary>The values of <c>storage.provider</c>.</summary>
public static class StorageProviders
{
    public const string Memory = "memory";
    public const string Redis = "redis";
}
