using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using Orleans.Streams.Core;
using Webhooks.Configuration;
using Webhooks.Dispatch;
using Webhooks.Observability;

namespace Webhooks.Delivery;

/// <summary>
/// One tenant's webhook endpoint. Takes the tenant's events from its stream (or a direct publish) into a bounded
/// buffer and returns at once; deliveries then run concurrently, up to <c>delivery.max_concurrency</c>, each under
/// <c>delivery.timeout</c>. A slow endpoint therefore never stalls the stream, and never delays another tenant.
/// </summary>
[TopicStreamSubscription]
internal sealed partial class TenantWebhookGrain(
    WebhookSettingsMonitor settings,
    IOptions<DeliveryOptions> deliveryOptions,
    WebhookSender sender,
    WebhookMetrics metrics,
    TimeProvider timeProvider,
    ILogger<TenantWebhookGrain> logger)
    : Grain, ITenantWebhookGrain, IStreamSubscriptionObserver, IAsyncObserver<WebhookEvent>
{
    // Gateways spend credits within the lease; the grain keeps the room a while longer for events still in the stream.
    private static readonly TimeSpan AdmissionLease = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AdmissionGrace = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FullBufferRetryAfter = TimeSpan.FromSeconds(1);

    private readonly DeliveryOptions _options = deliveryOptions.Value;
    private readonly Queue<WebhookEvent> _buffer = new();
    private readonly AdmissionLedger _admissions = new();
    private readonly Dictionary<string, long> _filtered = new(StringComparer.Ordinal);
    private string _tenantId = "";
    private long _received;
    private long _delivered;
    private long _failed;
    private long _refused;
    private long _dropped;
    private int _inFlight;
    private bool _pumping;
    private TaskCompletionSource? _drained;

    // Events in flight, waiting, or promised to a gateway, against what the tenant may hold: its delivery slots plus its buffer.
    private int Room => _options.MaxConcurrency + _options.BufferSize - _inFlight - _buffer.Count - _admissions.Outstanding(timeProvider.GetUtcNow().UtcTicks);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = this.GetPrimaryKeyString();
        return Task.CompletedTask;
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<WebhookEvent>().ResumeAsync(this);

    public Task OnNextAsync(WebhookEvent item, StreamSequenceToken? token = null)
    {
        _admissions.Use(timeProvider.GetUtcNow().UtcTicks);
        Accept(item);
        return Task.CompletedTask;
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        LogStreamError(logger, _tenantId, ex);
        return Task.CompletedTask;
    }

    public async Task<string> Publish(WebhookEvent webhookEvent)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        var normalized = WebhookEventRules.Normalize(
            string.IsNullOrEmpty(webhookEvent.TenantId) ? webhookEvent with { TenantId = _tenantId } : webhookEvent,
            timeProvider);
        var errors = WebhookEventRules.Validate(normalized);
        if (errors.Count == 0 && normalized.TenantId != _tenantId)
        {
            errors.Add(new("tenant_id", $"names another tenant than this grain's '{_tenantId}'"));
        }

        if (errors.Count == 0)
        {
            errors.AddRange(await GrainFactory.GetGrain<IPayloadBuilderGrain>(0).Validate(normalized));
        }

        if (errors.Count > 0)
        {
            metrics.Refused(RefusalReasons.Invalid);
            throw new WebhookValidationException(errors);
        }

        if (Room <= 0)
        {
            _refused++;
            metrics.Refused(RefusalReasons.TenantBufferFull);
            throw new WebhookOverflowException(_tenantId, OverflowReason.TenantBufferFull, FullBufferRetryAfter);
        }

        metrics.Published(normalized.EventName);
        Accept(normalized);
        return normalized.Id;
    }

    public Task<AdmissionGrant> Admit(int requested)
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        var credits = Math.Clamp(requested, 0, Math.Max(Room, 0));
        _admissions.Add(credits, now + (AdmissionLease + AdmissionGrace).Ticks);
        return Task.FromResult(new AdmissionGrant(credits, AdmissionLease, FullBufferRetryAfter, settings.Current.Topic));
    }

    public Task<TenantWebhookStats> GetStats() => Task.FromResult(new TenantWebhookStats
    {
        Received = _received,
        Delivered = _delivered,
        Failed = _failed,
        Filtered = new Dictionary<string, long>(_filtered),
        Refused = _refused,
        Dropped = _dropped,
        Buffered = _buffer.Count,
        InFlight = _inFlight,
        Reserved = _admissions.Outstanding(timeProvider.GetUtcNow().UtcTicks),
    });

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_buffer.Count > 0 || _inFlight > 0)
        {
            // Memory mode has nowhere to keep a backlog: finish it while the runtime allows.
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await _drained.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_buffer.Count > 0 || _inFlight > 0)
        {
            _dropped += _buffer.Count;
            metrics.Dropped("deactivated", _buffer.Count);
            LogDroppedOnDeactivation(logger, _tenantId, _buffer.Count, _inFlight, reason.Description);
            _buffer.Clear();
        }
    }

    // Takes an event into the buffer, unless a rule keeps it from delivery.
    private void Accept(WebhookEvent webhookEvent)
    {
        _received++;
        if (FilterReason(webhookEvent) is { } reason)
        {
            Filter(webhookEvent, reason);
            return;
        }

        _buffer.Enqueue(webhookEvent);
        Pump();
    }

    // Starts deliveries while there is room in flight. Rules are checked again, as the configuration may have changed.
    private void Pump()
    {
        if (_pumping)
        {
            return;
        }

        _pumping = true;
        try
        {
            while (_inFlight < _options.MaxConcurrency && _buffer.TryDequeue(out var next))
            {
                if (FilterReason(next) is { } reason)
                {
                    Filter(next, reason);
                    continue;
                }

                _inFlight++;
                _ = DeliverAsync(next);
            }
        }
        finally
        {
            _pumping = false;
        }

        if (_inFlight > 0 || _buffer.Count > 0)
        {
            // Deliveries run beside the grain's calls; keep the activation while they do.
            DelayDeactivation(_options.Timeout + TimeSpan.FromMinutes(1));
        }
        else
        {
            _drained?.TrySetResult();
        }
    }

    private async Task DeliverAsync(WebhookEvent webhookEvent)
    {
        try
        {
            var tenant = settings.Current.Find(_tenantId)!;
            var payload = await GrainFactory.GetGrain<IPayloadBuilderGrain>(0).Build(webhookEvent);

            // The request is built and sent on the thread pool; only the bookkeeping runs on the grain.
            var result = await Task.Run(() => sender.SendAsync(tenant, webhookEvent, payload, CancellationToken.None));
            metrics.Attempted(webhookEvent.EventName, result.Outcome, result.Duration);
            if (result.Succeeded)
            {
                _delivered++;
                LogDelivered(logger, _tenantId, webhookEvent.Id, result.StatusCode ?? 0, result.Duration.TotalMilliseconds);
            }
            else
            {
                _failed++;
                LogDeliveryFailed(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, result.StatusCode, result.Outcome, result.Error, result.ResponseExcerpt);
            }
        }
        catch (Exception ex)
        {
            _failed++;
            metrics.Attempted(webhookEvent.EventName, DeliveryOutcomes.Error, TimeSpan.Zero);
            LogDeliveryError(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, ex);
        }
        finally
        {
            _inFlight--;
            Pump();
        }
    }

    private string? FilterReason(WebhookEvent webhookEvent)
    {
        var current = settings.Current;
        return DeliveryRules.FilterReason(current, current.Find(_tenantId), webhookEvent.EventName);
    }

    private void Filter(WebhookEvent webhookEvent, string reason)
    {
        var count = _filtered[reason] = _filtered.GetValueOrDefault(reason) + 1;
        metrics.Filtered(reason);

        // The first of each reason is worth an operator's attention; the rest are in the counter and at Debug.
        if (count == 1)
        {
            LogFilteredFirst(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, reason);
        }
        else
        {
            LogFiltered(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, reason);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivered event {EventId} to tenant {TenantId}: HTTP {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogDelivered(ILogger logger, string tenantId, string eventId, int statusCode, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of event {EventId} ({EventName}) to tenant {TenantId} failed: {Outcome}, status {StatusCode}: {Reason}. Response: {ResponseExcerpt}")]
    private static partial void LogDeliveryFailed(ILogger logger, string tenantId, string eventId, string eventName, int? statusCode, string outcome, string? reason, string? responseExcerpt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery of event {EventId} ({EventName}) to tenant {TenantId} failed before sending")]
    private static partial void LogDeliveryError(ILogger logger, string tenantId, string eventId, string eventName, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} ({EventName}) for tenant {TenantId} not delivered: {Reason}")]
    private static partial void LogFiltered(ILogger logger, string tenantId, string eventId, string eventName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventName}) for tenant {TenantId} not delivered: {Reason}; further events kept back for this reason are logged at Debug")]
    private static partial void LogFilteredFirst(ILogger logger, string tenantId, string eventId, string eventName, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId} dropped {Buffered} buffered events and abandoned {InFlight} deliveries in flight on deactivation ({Reason})")]
    private static partial void LogDroppedOnDeactivation(ILogger logger, string tenantId, int buffered, int inFlight, string? reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream error for tenant {TenantId}")]
    private static partial void LogStreamError(ILogger logger, string tenantId, Exception exception);
}
