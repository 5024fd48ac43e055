using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Webhooks.Observability;

namespace Webhooks.Ingest;

/// <summary>
/// The gateway: validates an event, reserves room for it in the tenant's buffer, and publishes it on the tenant's
/// stream. Works the same inside a silo and in an external Orleans client.
/// </summary>
internal sealed partial class WebhookPublisher(
    IClusterClient client,
    IOptions<WebhookPublisherOptions> options,
    TimeProvider timeProvider,
    WebhookMetrics metrics,
    ILogger<WebhookPublisher> logger,
    ILocalPayloadValidator? localValidator = null) : IWebhookPublisher
{
    private const int IdleSweepThreshold = 10_000;
    private static readonly TimeSpan IdleSweepInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<string, TenantCredits> _credits = new(StringComparer.Ordinal);
    private readonly WebhookPublisherOptions _options = options.Value;
    private IStreamProvider? _streams;
    private IPayloadBuilderGrain? _builder;
    private long _nextSweep;

    public async Task<string> PublishAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken = default)
    {
        var normalized = WebhookEventRules.Normalize(webhookEvent, timeProvider);
        var activity = WebhookTracing.StartPublish(normalized);
        using var scope = WebhookLogScopes.Event(logger, normalized.TenantId, normalized.Id);
        try
        {
            var id = await PublishNormalizedAsync(normalized, cancellationToken);
            WebhookTracing.EndPublish(activity, null);
            return id;
        }
        catch (Exception ex)
        {
            WebhookTracing.EndPublish(activity, ex);
            throw;
        }
    }

    private async Task<string> PublishNormalizedAsync(WebhookEvent normalized, CancellationToken cancellationToken)
    {
        var errors = WebhookEventRules.Validate(normalized);
        if (errors.Count > 0)
        {
            metrics.Published(normalized.TenantId, normalized.EventName);
            throw Invalid(normalized, errors);
        }

        var credits = _credits.GetOrAdd(normalized.TenantId, static _ => new TenantCredits());
        if (credits.IsDurable(timeProvider.GetUtcNow().UtcTicks))
        {
            return await PublishToGrainAsync(normalized, credits);
        }

        // Memory streams: validate here, so that a bad event never takes room in the tenant's buffer.
        metrics.Published(normalized.TenantId, normalized.EventName);
        errors.AddRange(localValidator is { } local ? local.Validate(normalized) : await Builder.Validate(normalized));
        if (errors.Count > 0)
        {
            throw Invalid(normalized, errors);
        }

        var deadline = timeProvider.GetUtcNow() + _options.MaxWait;
        var route = await TakeCreditAsync(normalized.TenantId, credits, deadline, cancellationToken);
        if (route is null)
        {
            // The silo's storage turned out durable: the grain takes the event, and must not count it again.
            RequestContext.Set(WebhookMetrics.PublishCountedKey, true);
            try
            {
                return await PublishToGrainAsync(normalized, credits);
            }
            finally
            {
                RequestContext.Remove(WebhookMetrics.PublishCountedKey);
            }
        }

        await OnNextAsync(credits, route, normalized, deadline, cancellationToken);
        metrics.Accepted(normalized.TenantId, normalized.EventName);
        return normalized.Id;
    }

    // Durable storage: the tenant grain validates, stores, and only then acknowledges. It counts what it is offered.
    private Task<string> PublishToGrainAsync(WebhookEvent webhookEvent, TenantCredits credits) =>
        credits.Grain(client, webhookEvent.TenantId).Publish(webhookEvent);

    // Returns the topic to publish on, once a credit is taken; null when the silo wants events sent to the grain.
    private async Task<string?> TakeCreditAsync(string tenantId, TenantCredits credits, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        SweepIdle(timeProvider.GetUtcNow());
        var grain = credits.Grain(client, tenantId);
        var backoff = MinBackoff;
        while (true)
        {
            var now = timeProvider.GetUtcNow();
            if (credits.TryTake(now.UtcTicks, grain.Admit, out var pending))
            {
                return credits.Topic!;
            }

            var grant = await pending!.WaitAsync(cancellationToken);
            if (grant.Durable)
            {
                return null;
            }

            if (grant.Credits > 0)
            {
                continue;
            }

            now = timeProvider.GetUtcNow();
            if (now >= deadline)
            {
                throw Overflow(tenantId, grant.Refusal, grant.RetryAfter);
            }

            await Task.Delay(Min(backoff, deadline - now), timeProvider, cancellationToken);
            backoff = Min(backoff * 2, MaxBackoff);
        }
    }

    private async Task OnNextAsync(TenantCredits credits, string topic, WebhookEvent webhookEvent, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        _streams ??= client.GetStreamProvider(WebhookStreams.ProviderName);
        var stream = credits.Stream(_streams, topic, webhookEvent.TenantId);
        var backoff = MinBackoff;
        while (true)
        {
            try
            {
                await stream.OnNextAsync(webhookEvent);
                return;
            }
            catch (InvalidOperationException ex)
            {
                // The memory stream's queue grain refuses past 16384 events; wait for its pulling agent to drain it.
                var now = timeProvider.GetUtcNow();
                if (now >= deadline)
                {
                    LogStreamQueueFull(logger, webhookEvent.TenantId, webhookEvent.Id, ex.Message);
                    throw Overflow(webhookEvent.TenantId, OverflowReason.StreamQueueFull, _options.RetryAfter, ex);
                }

                await Task.Delay(Min(backoff, deadline - now), timeProvider, cancellationToken);
                backoff = Min(backoff * 2, MaxBackoff);
            }
        }
    }

    private WebhookValidationException Invalid(WebhookEvent webhookEvent, IReadOnlyList<WebhookValidationError> errors)
    {
        metrics.Refused(webhookEvent.TenantId, RefusalReasons.Invalid);
        LogRefusedInvalid(logger, webhookEvent.TenantId, webhookEvent.Id, errors.Count);
        return new WebhookValidationException(errors);
    }

    private WebhookOverflowException Overflow(string tenantId, OverflowReason reason, TimeSpan retryAfter, Exception? cause = null)
    {
        metrics.Refused(tenantId, RefusalReasons.Of(reason));
        LogOverflow(logger, tenantId, reason);
        return new WebhookOverflowException(tenantId, reason, retryAfter, cause);
    }

    // Forgets tenants this gateway no longer holds room for, so the table tracks active tenants only.
    private void SweepIdle(DateTimeOffset now)
    {
        // The time is checked first: counting a concurrent dictionary takes all its locks.
        var next = Interlocked.Read(ref _nextSweep);
        if (now.UtcTicks < next
            || Interlocked.CompareExchange(ref _nextSweep, now.UtcTicks + IdleSweepInterval.Ticks, next) != next
            || _credits.Count < IdleSweepThreshold)
        {
            return;
        }

        foreach (var (tenantId, credits) in _credits)
        {
            if (credits.IsIdle(now.UtcTicks))
            {
                _credits.TryRemove(tenantId, out _);
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // Resolving a grain reference is not free: the builder's is taken once, each tenant's once per table entry.
    private IPayloadBuilderGrain Builder => _builder ??= client.GetGrain<IPayloadBuilderGrain>(0);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused event {EventId} for tenant {TenantId}: {ErrorCount} validation error(s)")]
    private static partial void LogRefusedInvalid(ILogger logger, string tenantId, string eventId, int errorCount);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused an event for tenant {TenantId}: {Reason}")]
    private static partial void LogOverflow(ILogger logger, string tenantId, OverflowReason reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Stream queue full for event {EventId} of tenant {TenantId}: {Detail}")]
    private static partial void LogStreamQueueFull(ILogger logger, string tenantId, string eventId, string detail);
}
