using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Streams;
using Orleans.Streams.Core;
using Webhooks.Configuration;
using Webhooks.Dispatch;
using Webhooks.Ingest;
using Webhooks.Observability;
using Webhooks.Payloads;

namespace Webhooks.Delivery;

/// <summary>
/// One tenant's webhook endpoint. Takes the tenant's events from its stream (or a direct publish) and returns at once;
/// deliveries then run concurrently, up to <c>delivery.max_concurrency</c>, each under <c>delivery.timeout</c>. A failed
/// attempt waits for its retry without holding up any other event; an event whose retries run out is kept as failed
/// for replay. Undelivered and failed events, and the endpoint's health, are grain state in the configured storage.
/// </summary>
/// <remarks>
/// Reentrant: every handler changes state only between awaits, so publishes, stream events, deliveries and storage
/// writes interleave freely, and concurrent durable publishes share one storage write.
/// </remarks>
[Reentrant]
[TopicStreamSubscription]
internal sealed partial class TenantWebhookGrain(
    [PersistentState("delivery", StorageOptions.GrainStorageName)] IPersistentState<TenantDeliveryState> state,
    [PersistentState("attempts", StorageOptions.GrainStorageName)] IPersistentState<AttemptHistoryState> history,
    WebhookSettingsMonitor settings,
    IOptions<DeliveryOptions> deliveryOptions,
    IOptions<FailedEventOptions> failedOptions,
    IOptions<StorageOptions> storageOptions,
    IOptions<WebhookPublisherOptions> publisherOptions,
    IIdempotencyStore idempotency,
    PayloadValidator validator,
    WebhookSender sender,
    DeliverySlots slots,
    SiloBacklog backlog,
    WebhookMetrics metrics,
    DeliveryGauges gauges,
    TimeProvider timeProvider,
    ILogger<TenantWebhookGrain> logger)
    : Grain, ITenantWebhookGrain, ITenantRetryTimer, IStreamSubscriptionObserver, IAsyncObserver<WebhookEvent>, IRemindable
{
    private const string WakeReminder = "webhooks-wake";

    // Gateways spend credits within the lease; the grain keeps the room a while longer for events still in the stream.
    // The grace is short: credits a gateway let lapse still count against the silo's backlog until it ends.
    private static readonly TimeSpan AdmissionLease = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AdmissionGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FullBufferRetryAfter = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan RoomPollInterval = TimeSpan.FromMilliseconds(50);

    // A tenant starts with a few deliveries in flight and earns more with each answer, up to delivery.max_concurrency.
    private const int InitialConcurrency = 4;

    private readonly DeliveryOptions _delivery = deliveryOptions.Value;
    private readonly FailedEventOptions _failed = failedOptions.Value;
    private readonly StorageOptions _storage = storageOptions.Value;
    private readonly TimeSpan _maxWait = publisherOptions.Value.MaxWait;
    private TaskCompletionSource? _roomFreed;

    // Every undelivered event by id; each is also in exactly one of: the ready queue, the retry queue, or in flight.
    private readonly Dictionary<string, PendingDelivery> _pending = new(StringComparer.Ordinal);
    private readonly Queue<PendingDelivery> _ready = new();
    private readonly PriorityQueue<PendingDelivery, DateTimeOffset> _retrying = new();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly AdmissionLedger _admissions = new();
    private readonly Dictionary<string, long> _filtered = new(StringComparer.Ordinal);

    private string _tenantId = "";
    private TenantLoad _load = new();
    private long _received;
    private long _delivered;
    private long _failedCount;
    private long _refused;
    private long _dropped;
    private long _retries;
    private bool _pumping;

    // Deliveries this tenant may have in flight now: the configured limit while it answers, fewer while it times out.
    private int _concurrency;
    private int _sending;
    private readonly Queue<PendingDelivery> _requeued = new();

    // Events being accepted now, between the duplicate check and the idempotency record; null while there are none.
    // An event's outcome is signalled only once a second publish of it waits for it.
    private Dictionary<string, TaskCompletionSource<bool>?>? _accepting;
    private bool _deactivating;
    private bool _wakeRegistered;
    private ITimer? _retryTimer;
    private ITenantRetryTimer? _self;
    private IPayloadBuilderGrain? _builder;
    private DateTimeOffset _retryTimerDue = DateTimeOffset.MaxValue;

    // Storage writes: changes mark the state dirty; one write at a time carries every change made before it began.
    private bool _dirty;
    private bool _historyDirty;
    private bool _historyRequested;
    private Task? _writing;
    private TaskCompletionSource? _nextWrite;
    private TaskCompletionSource? _currentWrite;
    private TaskCompletionSource? _idle;

    private TenantDeliveryState State => state.State;

    private DateTimeOffset Now => timeProvider.GetUtcNow();

    private int Room => Math.Min(TenantRoom, SiloRoom);

    // Events pending (waiting, in flight or in retry) or promised to a gateway, against what the tenant may hold.
    private int TenantRoom => _delivery.MaxConcurrency + _delivery.BufferSize - _pending.Count - _admissions.Outstanding(Now.UtcTicks);

    // This tenant's share of the silo's backlog: it may hold no more than the silo has free. Tenants that stop
    // draining thus fill the backlog only in part, and a tenant that holds little still finds room (the dynamic
    // threshold of shared-buffer switches).
    private int SiloRoom => backlog.Room - _held;

    private OverflowReason FullBound => TenantRoom <= 0 ? OverflowReason.TenantBufferFull : OverflowReason.SiloBacklogFull;

    // What this grain has counted into the silo's backlog.
    private int _held;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _tenantId = this.GetPrimaryKeyString();
        _load = gauges.Track(_tenantId);
        _concurrency = Math.Min(InitialConcurrency, _delivery.MaxConcurrency);
        var now = Now;
        foreach (var pending in State.Pending)
        {
            _pending[pending.Event.Id] = pending;
            Schedule(pending, now);
        }

        _self = GrainFactory.GetGrain<ITenantRetryTimer>(_tenantId);

        // Resolving a grain reference is not free: take it once per activation.
        _builder = GrainFactory.GetGrain<IPayloadBuilderGrain>(0);

        // The retry timer runs on the engine's clock, which tests replace to run whole schedules in seconds.
        _retryTimer = timeProvider.CreateTimer(static self => ((TenantWebhookGrain)self!).OnRetryTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        // Memory storage only matters across deactivations, which write everything anyway: it needs no periodic writes.
        var housekeeping = _storage.IsDurable ? _storage.FlushInterval : TimeSpan.FromMinutes(1);
        this.RegisterGrainTimer(OnHousekeepingDueAsync, new GrainTimerCreationOptions(housekeeping, housekeeping) { Interleave = true });
        ExpireFailed(now);
        if (_pending.Count > 0)
        {
            LogResumed(logger, _tenantId, _pending.Count, _retrying.Count);
            await EnsureWakeAsync();
        }

        ArmRetryTimer();
        Pump();
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<WebhookEvent>().ResumeAsync(this);

    public async Task OnNextAsync(WebhookEvent item, StreamSequenceToken? token = null)
    {
        _admissions.Use(Now.UtcTicks);
        await TakeAsync(item, refuseWhenFull: false);
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
            errors.AddRange(validator.Validate(normalized));
        }

        if (RequestContext.Get(WebhookMetrics.PublishCountedKey) is not true)
        {
            metrics.Published(_tenantId, normalized.EventName);
        }

        if (errors.Count > 0)
        {
            metrics.Refused(_tenantId, RefusalReasons.Invalid);
            throw new WebhookValidationException(errors);
        }

        await TakeAsync(normalized, refuseWhenFull: true);
        metrics.Accepted(_tenantId, normalized.EventName);
        return normalized.Id;
    }

    public Task<AdmissionGrant> Admit(int requested)
    {
        if (_storage.IsDurable)
        {
            return Task.FromResult(new AdmissionGrant(0, AdmissionLease, FullBufferRetryAfter, settings.Current.Topic, Durable: true));
        }

        var now = Now.UtcTicks;
        // A credit both adds one to what this tenant holds and takes one from what the silo has free, so each shrinks
        // the tenant's share of the backlog by two: a batch gets as many as single publishes, one after another, would.
        var credits = Math.Clamp(requested, 0, Math.Max(Math.Min(TenantRoom, (SiloRoom + 1) / 2), 0));
        var refusal = credits == 0 ? FullBound : OverflowReason.TenantBufferFull;
        _admissions.Add(credits, now + (AdmissionLease + AdmissionGrace).Ticks);
        CountHeld();
        ArmRetryTimer();
        return Task.FromResult(new AdmissionGrant(credits, AdmissionLease, FullBufferRetryAfter, settings.Current.Topic, Refusal: refusal));
    }

    public Task<TenantWebhookStats> GetStats() => Task.FromResult(new TenantWebhookStats
    {
        Received = _received,
        Delivered = _delivered,
        Failed = _failedCount,
        Filtered = new Dictionary<string, long>(_filtered),
        Refused = _refused,
        Dropped = _dropped,
        Buffered = _ready.Count,
        InFlight = _inFlight.Count,
        Reserved = _admissions.Outstanding(Now.UtcTicks),
        Retrying = _retrying.Count,
        FailedKept = State.Failed.Count,
        Retries = _retries,
    });

    public Task<FailedDelivery[]> GetFailed() => Task.FromResult(State.Failed.ToArray());

    public Task<ReplayResult> Replay(string eventId) => ReplayAsync(failed => failed.Event.Id == eventId);

    public Task<ReplayResult> ReplaySince(DateTimeOffset since) => ReplayAsync(failed => failed.FailedAt >= since);

    public Task<DeliveryAttempt[]> GetAttempts(int limit) =>
        Task.FromResult(history.State.Attempts.AsEnumerable().Reverse().Take(Math.Max(limit, 0)).ToArray());

    public Task<EndpointStatus> GetEndpointStatus() => Task.FromResult(State.Endpoint.ToStatus(_tenantId));

    public async Task<EndpointStatus> Enable()
    {
        if (State.Endpoint.Disabled)
        {
            State.Endpoint.Enable();
            MarkDirty();
            LogEnabled(logger, _tenantId);
            await PublishStatusAsync();
        }

        await PersistAsync();
        return State.Endpoint.ToStatus(_tenantId);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WakeReminder)
        {
            return;
        }

        if (_pending.Count == 0)
        {
            _wakeRegistered = false;
            if (await this.GetReminder(WakeReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }

            return;
        }

        _wakeRegistered = true;
        PromoteDueRetries();
        Pump();
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Start nothing new; let deliveries in flight finish while the runtime allows, then store what is left.
        _deactivating = true;
        if (_retryTimer is not null)
        {
            await _retryTimer.DisposeAsync();
        }

        if (_inFlight.Count > 0)
        {
            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            try
            {
                await _idle.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        var shuttingDown = reason.ReasonCode == DeactivationReasonCode.ShuttingDown;
        try
        {
            // Memory storage is itself a grain, already gone when the silo shuts down: there is nothing to write to.
            if (_storage.IsDurable || !shuttingDown)
            {
                await FlushAsync(includeHistory: true).WaitAsync(cancellationToken);
                await EnsureWakeAsync().WaitAsync(cancellationToken);
            }

            // At shutdown the reminder service is stopping too; a stale reminder unregisters itself on its next tick.
            if (_pending.Count == 0 && _wakeRegistered && !shuttingDown && await this.GetReminder(WakeReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            LogStorageError(logger, _tenantId, ex);
        }

        gauges.Untrack(_tenantId, _load);
        backlog.Change(-_held);
        _held = 0;
        if (_pending.Count > 0 && !_storage.IsDurable && shuttingDown)
        {
            // Memory storage ends with the silo: these events are lost, and that is said out loud.
            _dropped += _pending.Count;
            metrics.Dropped(_tenantId, DropReasons.Shutdown, _pending.Count);
            LogLostOnShutdown(logger, _tenantId, _pending.Count, _inFlight.Count);
        }
    }

    // Takes an event for delivery, unless a rule keeps it back or the tenant already has it.
    private async Task TakeAsync(WebhookEvent webhookEvent, bool refuseWhenFull)
    {
        using var scope = WebhookLogScopes.Event(logger, _tenantId, webhookEvent.Id);
        if (FilterReason(webhookEvent) is { } reason)
        {
            _received++;
            Filter(webhookEvent, reason);
            return;
        }

        // Another publish of the same event may be under way on this reentrant grain: its outcome decides this one's.
        while (_accepting is not null && _accepting.TryGetValue(webhookEvent.Id, out var earlier))
        {
            earlier ??= _accepting[webhookEvent.Id] = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (await earlier.Task)
            {
                _received++;
                Filter(webhookEvent, FilterReasons.Duplicate);
                return;
            }
        }

        if (_pending.ContainsKey(webhookEvent.Id))
        {
            _received++;
            Filter(webhookEvent, FilterReasons.Duplicate);
            return;
        }

        // From here until the idempotency store has the id, a publish of the same event waits for this one's outcome.
        (_accepting ??= new(StringComparer.Ordinal)).Add(webhookEvent.Id, null);
        var outcome = false;
        try
        {
            if (await idempotency.ContainsAsync(_tenantId, webhookEvent.Id))
            {
                _received++;
                Filter(webhookEvent, FilterReasons.Duplicate);
                outcome = true;
                return;
            }

            if (refuseWhenFull && Room <= 0 && !await WaitForRoomAsync())
            {
                var bound = FullBound;
                _refused++;
                metrics.Refused(_tenantId, RefusalReasons.Of(bound));
                throw new WebhookOverflowException(_tenantId, bound, FullBufferRetryAfter);
            }

            _received++;
            var pending = new PendingDelivery { Event = webhookEvent, DueAt = Now, TraceParent = WebhookTracing.IncomingTraceParent() };
            if (State.Endpoint.Disabled)
            {
                // Kept, not dropped: an operator replays it once the endpoint is enabled again.
                KeepFailed(pending, FailureReasons.EndpointDisabled);
            }
            else
            {
                _pending.Add(webhookEvent.Id, pending);
                _ready.Enqueue(pending);
                Pump();
            }

            MarkDirty();
            await PersistAsync();
            await idempotency.AddAsync(_tenantId, webhookEvent.Id);
            outcome = true;
        }
        finally
        {
            _accepting!.Remove(webhookEvent.Id, out var waiting);
            if (_accepting.Count == 0)
            {
                _accepting = null;
            }

            waiting?.SetResult(outcome);
        }
    }

    // Waits up to ingest.max_wait for room, as the gateway does: a publisher is refused only when the wait runs out.
    private async Task<bool> WaitForRoomAsync()
    {
        var deadline = Now + _maxWait;
        while (Room <= 0)
        {
            var remaining = deadline - Now;
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }

            // Room frees as this tenant's deliveries end; the silo's backlog also frees elsewhere, so look again soon.
            _roomFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await Task.WhenAny(_roomFreed.Task, Task.Delay(remaining < RoomPollInterval ? remaining : RoomPollInterval, timeProvider));
        }

        return true;
    }

    // Starts deliveries while there is room in flight. Rules are checked again, as the configuration may have changed.
    private void Pump()
    {
        if (_pumping || _deactivating || State.Endpoint.Disabled)
        {
            return;
        }

        _pumping = true;
        List<PendingDelivery>? batch = null;
        try
        {
            while (_inFlight.Count < _concurrency && (_requeued.TryDequeue(out var next) || _ready.TryDequeue(out next)))
            {
                if (!_pending.ContainsKey(next.Event.Id) || _inFlight.Contains(next.Event.Id))
                {
                    continue;
                }

                if (FilterReason(next.Event) is { } reason)
                {
                    // The configuration changed since the event was accepted. An exclusion is the tenant's choice; a
                    // tenant gone or switched off must not cost the event: it is kept for replay.
                    using var scope = WebhookLogScopes.Event(logger, _tenantId, next.Event.Id);
                    if (reason == FilterReasons.EventExcluded)
                    {
                        _pending.Remove(next.Event.Id);
                        Filter(next.Event, reason);
                        MarkDirty();
                    }
                    else
                    {
                        KeepFailed(next, reason);
                    }

                    continue;
                }

                _inFlight.Add(next.Event.Id);
                (batch ??= []).Add(next);
            }
        }
        finally
        {
            _pumping = false;
        }

        if (batch is not null)
        {
            _ = DeliverAsync(batch);
        }

        if (_inFlight.Count > 0)
        {
            // Deliveries run beside the grain's calls; keep the activation while they do.
            DelayDeactivation(_delivery.Timeout + TimeSpan.FromMinutes(1));
        }

        ReportLoad();
    }

    // Keeps the silo's backlog in step with what this grain holds: its undelivered events and its promises.
    private void CountHeld()
    {
        var held = _pending.Count + _admissions.Outstanding(Now.UtcTicks);
        backlog.Change(held - _held);
        _held = held;
    }

    private void ReportLoad()
    {
        CountHeld();
        if (_roomFreed is not null && Room > 0)
        {
            _roomFreed.TrySetResult();
            _roomFreed = null;
        }

        _load.Buffered = _ready.Count;
        _load.InFlight = _inFlight.Count;
        _load.Retrying = _retrying.Count;
        _load.Failed = State.Failed.Count;
        _load.Disabled = State.Endpoint.Disabled;
    }

    // Builds the payloads of a batch of events in one call to the builder grain, then sends each on its own.
    private async Task DeliverAsync(List<PendingDelivery> batch)
    {
        string?[] payloads;
        Exception? buildError = null;
        try
        {
            payloads = await _builder!.BuildAll([.. batch.Select(pending => pending.Event)]);
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // One builder failed: build one by one, so that only that event fails.
            payloads = new string?[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                try
                {
                    payloads[i] = await _builder!.Build(batch[i].Event);
                }
                catch (Exception single)
                {
                    buildError = single;
                }
            }

            buildError ??= ex;
        }
        catch (Exception ex)
        {
            payloads = [null];
            buildError = ex;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (payloads[i] is { } payload)
            {
                _ = SendAsync(batch[i], payload);
            }
            else
            {
                var webhookEvent = batch[i].Event;
                LogDeliveryError(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, buildError!);
                Finish(batch[i], new DeliveryResult(DeliveryOutcomes.Error, null, $"the payload builder failed: {buildError!.GetType().Name}: {buildError.Message}", TimeSpan.Zero, null), Now);
            }
        }
    }

    private async Task SendAsync(PendingDelivery pending, string payload)
    {
        var webhookEvent = pending.Event;
        var started = Now;
        DeliveryResult result;
        using var scope = WebhookLogScopes.Event(logger, _tenantId, webhookEvent.Id);
        using var activity = WebhookTracing.StartDelivery(webhookEvent, pending.TraceParent, pending.Attempts + 1);
        try
        {
            // The wait for a silo slot and the request run on the thread pool: a slot is held only while its request
            // is out, never while its continuation waits its turn on a busy grain scheduler.
            if (settings.Current.Find(_tenantId) is not { } tenant
                || await Task.Run(() => SendInSlotAsync(tenant, webhookEvent, payload, pending.TraceParent)) is not { } sent)
            {
                // The tenant left the configuration while its payload was built, or its endpoint started failing while
                // this delivery waited for a slot: it goes back in line, where the rules are checked again.
                _inFlight.Remove(webhookEvent.Id);
                _requeued.Enqueue(pending);
                Pump();
                return;
            }

            result = sent;
        }
        catch (Exception ex)
        {
            LogDeliveryError(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, ex);
            result = new DeliveryResult(DeliveryOutcomes.Error, null, $"{ex.GetType().Name}: {ex.Message}", Now - started, null);
        }

        activity?.SetTag("http.response.status_code", result.StatusCode);
        activity?.SetTag("webhooks.outcome", result.Outcome);
        activity?.SetStatus(result.Succeeded ? ActivityStatusCode.Ok : ActivityStatusCode.Error, result.Succeeded ? null : result.Outcome);
        Finish(pending, result, started);
    }

    // Runs on the thread pool. Returns null, having sent nothing, when the tenant already has as many requests out as
    // its back-off allows; the counters it reads are written by the grain, so they are read and changed atomically.
    private async Task<DeliveryResult?> SendInSlotAsync(TenantEndpoint tenant, WebhookEvent webhookEvent, string payload, string? traceParent)
    {
        await slots.WaitAsync(tenant.TenantId);
        try
        {
            if (Interlocked.Increment(ref _sending) > Volatile.Read(ref _concurrency))
            {
                return null;
            }

            return await sender.SendAsync(tenant, webhookEvent, payload, traceParent, CancellationToken.None);
        }
        finally
        {
            Interlocked.Decrement(ref _sending);
            slots.Release(tenant.TenantId);
        }
    }

    private void Finish(PendingDelivery pending, DeliveryResult result, DateTimeOffset started)
    {
        _inFlight.Remove(pending.Event.Id);
        AdjustConcurrency(result);
        Complete(pending, result, started);
        if (_inFlight.Count == 0)
        {
            _idle?.TrySetResult();
        }

        Pump();
    }

    // Records an attempt's outcome and decides what comes next for the event.
    private void Complete(PendingDelivery pending, DeliveryResult result, DateTimeOffset started)
    {
        var webhookEvent = pending.Event;
        var now = Now;
        pending.Attempts++;
        RecordAttempt(new DeliveryAttempt(webhookEvent.Id, webhookEvent.EventName, pending.Attempts, started, result.StatusCode, result.Duration, result.Outcome, result.Error, result.ResponseExcerpt));
        metrics.Attempted(_tenantId, webhookEvent.EventName, result.Outcome, result.StatusCode, result.Duration);
        if (!_pending.ContainsKey(webhookEvent.Id))
        {
            return;
        }

        MarkDirty();
        if (result.Succeeded)
        {
            _pending.Remove(webhookEvent.Id);
            _delivered++;
            metrics.Delivered(_tenantId, webhookEvent.EventName, now - webhookEvent.Timestamp);
            if (State.Endpoint.ConsecutiveFailures > 0)
            {
                LogRecovered(logger, _tenantId, State.Endpoint.ConsecutiveFailures);
            }

            State.Endpoint.Succeeded();
            LogDelivered(logger, _tenantId, webhookEvent.Id, pending.Attempts, result.StatusCode ?? 0, result.Duration.TotalMilliseconds);
            return;
        }

        pending.LastStatusCode = result.StatusCode;
        pending.LastError = result.Error;
        State.Endpoint.Failed(now);

        // The first failure of a run is a warning; the rest of the run is at Debug, so an outage is not a line per event.
        if (State.Endpoint.ConsecutiveFailures == 1)
        {
            LogEndpointFailing(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, pending.Attempts, result.StatusCode, result.Outcome, result.Error, result.ResponseExcerpt);
        }
        else
        {
            LogAttemptFailed(logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, pending.Attempts, result.StatusCode, result.Outcome, result.Error, result.ResponseExcerpt);
        }

        if (result.StatusCode == 410)
        {
            KeepFailed(pending, FailureReasons.EndpointGone);
            DisableEndpoint("the endpoint answered 410 Gone", now);
            return;
        }

        if (State.Endpoint.Disabled)
        {
            KeepFailed(pending, FailureReasons.EndpointDisabled);
            return;
        }

        if (AutoDisableReason(now) is { } disableReason)
        {
            KeepFailed(pending, FailureReasons.EndpointDisabled);
            DisableEndpoint(disableReason, now);
            return;
        }

        var schedule = settings.Current.Find(_tenantId)?.RetrySchedule ?? _delivery.EffectiveRetrySchedule;
        if (RetryPolicy.NextDelay(schedule, pending.Attempts, result.RetryAfter, _delivery.MaxRetryAfter, _delivery.RetryJitter, Random.Shared) is not { } delay)
        {
            KeepFailed(pending, FailureReasons.RetriesExhausted);
            return;
        }

        _retries++;
        metrics.RetryScheduled(_tenantId);
        pending.DueAt = now + delay;
        Schedule(pending, now);
        ArmRetryTimer();
        _ = EnsureWakeAsync();
    }

    // Slow start and back-off: a tenant earns one more delivery in flight with each answer, up to its limit; a timeout
    // or a refused connection drops it to one. An endpoint that hangs thus holds one of the silo's delivery slots, not
    // its whole limit, and gets its share back as it answers again.
    private void AdjustConcurrency(DeliveryResult result)
    {
        if (result.Outcome is DeliveryOutcomes.Timeout or DeliveryOutcomes.ConnectionError)
        {
            Volatile.Write(ref _concurrency, 1);
        }
        else if (result.StatusCode is not null && _concurrency < _delivery.MaxConcurrency)
        {
            Volatile.Write(ref _concurrency, _concurrency + 1);
        }
    }

    private string? AutoDisableReason(DateTimeOffset now)
    {
        var health = State.Endpoint;
        if (_delivery.AutoDisableFailures > 0 && health.ConsecutiveFailures >= _delivery.AutoDisableFailures)
        {
            return $"{health.ConsecutiveFailures} delivery attempts in a row failed";
        }

        return health.FailingSince is { } since && now - since >= _delivery.AutoDisableAfter
            ? $"every delivery attempt since {since:u} failed"
            : null;
    }

    // Disables the endpoint: what waits or waits for a retry is kept as failed; deliveries in flight finish.
    private void DisableEndpoint(string reason, DateTimeOffset now)
    {
        State.Endpoint.Disable(reason, now);
        foreach (var waiting in _pending.Values.Where(p => !_inFlight.Contains(p.Event.Id)).ToList())
        {
            KeepFailed(waiting, FailureReasons.EndpointDisabled);
        }

        _ready.Clear();
        _retrying.Clear();
        ArmRetryTimer();
        MarkDirty();
        metrics.EndpointDisabled(_tenantId);
        LogEndpointDisabled(logger, _tenantId, reason);
        _ = PublishStatusAsync();
    }

    private void KeepFailed(PendingDelivery pending, string reason)
    {
        var now = Now;
        _pending.Remove(pending.Event.Id);
        State.Failed.Add(new FailedDelivery(pending.Event, pending.Attempts, now, reason, pending.LastStatusCode, pending.LastError));
        _failedCount++;
        metrics.Failed(_tenantId, reason);
        LogKeptFailed(logger, _tenantId, pending.Event.Id, pending.Event.EventName, reason, pending.Attempts, pending.LastError);

        var excess = State.Failed.Count - _failed.MaxPerTenant;
        if (excess > 0)
        {
            var evicted = State.Failed.Take(excess).Select(f => f.Event.Id).ToList();
            State.Failed.RemoveRange(0, excess);
            _dropped += excess;
            metrics.Dropped(_tenantId, DropReasons.FailedStoreFull, excess);
            LogFailedEvicted(logger, _tenantId, excess, string.Join(", ", evicted));
        }

        MarkDirty();
    }

    private void ExpireFailed(DateTimeOffset now)
    {
        var expired = State.Failed.RemoveAll(f => now - f.FailedAt > _failed.Retention);
        if (expired > 0)
        {
            metrics.Expired(_tenantId, expired);
            LogFailedExpired(logger, _tenantId, expired, _failed.Retention);
            MarkDirty();
        }
    }

    private async Task<ReplayResult> ReplayAsync(Func<FailedDelivery, bool> matches)
    {
        if (State.Endpoint.Disabled)
        {
            throw new InvalidOperationException($"The endpoint of tenant '{_tenantId}' is disabled ({State.Endpoint.DisabledReason}); enable it before replaying.");
        }

        var matching = State.Failed.Where(matches).ToList();
        var replayed = 0;
        var now = Now;
        foreach (var failed in matching)
        {
            if (Room <= 0 || _pending.ContainsKey(failed.Event.Id))
            {
                continue;
            }

            State.Failed.Remove(failed);
            var pending = new PendingDelivery { Event = failed.Event, DueAt = now };
            _pending.Add(failed.Event.Id, pending);
            _ready.Enqueue(pending);
            replayed++;
        }

        if (replayed > 0)
        {
            MarkDirty();
            LogReplayed(logger, _tenantId, replayed, matching.Count - replayed);
            Pump();
            await PersistAsync();
        }

        return new ReplayResult(replayed, matching.Count - replayed);
    }

    private void Schedule(PendingDelivery pending, DateTimeOffset now)
    {
        if (pending.DueAt <= now)
        {
            _ready.Enqueue(pending);
        }
        else
        {
            _retrying.Enqueue(pending, pending.DueAt);
        }
    }

    private void PromoteDueRetries()
    {
        var now = Now;
        while (_retrying.TryPeek(out var next, out var due) && due <= now)
        {
            _retrying.Dequeue();
            if (_pending.ContainsKey(next.Event.Id))
            {
                _ready.Enqueue(next);
            }
        }

        ArmRetryTimer();
    }

    // One timer, set for the earliest retry or the lapse of the oldest grant, whichever comes first: a grant that lapses
    // unused must leave the silo's backlog even when no other call comes to this grain. While the grain is active the
    // timer fires on time; a reminder covers retries beyond that.
    private void ArmRetryTimer()
    {
        var due = _retrying.TryPeek(out _, out var next) ? next : DateTimeOffset.MaxValue;
        if (_admissions.NextLapse(Now.UtcTicks) is { } lapse && lapse < due.UtcTicks)
        {
            due = new DateTimeOffset(lapse, TimeSpan.Zero);
        }

        if (due == _retryTimerDue || _retryTimer is null)
        {
            return;
        }

        _retryTimerDue = due;
        var wait = due == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : Max(due - Now, TimeSpan.Zero);
        _retryTimer.Change(wait, Timeout.InfiniteTimeSpan);
    }

    public Task RetryDue()
    {
        _retryTimerDue = DateTimeOffset.MaxValue;
        PromoteDueRetries();
        Pump();
        ReportLoad();
        return Task.CompletedTask;
    }

    // Runs on a timer thread, outside the grain: it only asks the grain, through a message, to look at its retries.
    private void OnRetryTimer() => _ = WakeForRetriesAsync();

    private async Task WakeForRetriesAsync()
    {
        try
        {
            await _self!.RetryDue();
        }
        catch (Exception ex)
        {
            LogRetryWakeFailed(logger, _tenantId, ex);
        }
    }

    private async Task OnHousekeepingDueAsync(CancellationToken cancellationToken)
    {
        ExpireFailed(Now);
        if (_storage.IsDurable && (_dirty || _historyDirty))
        {
            try
            {
                await FlushAsync(includeHistory: true);
            }
            catch (Exception ex)
            {
                LogStorageError(logger, _tenantId, ex);
            }
        }
    }

    // A reminder wakes this tenant while it has undelivered events, so that they resume after a restart.
    private async Task EnsureWakeAsync()
    {
        if (_wakeRegistered || _pending.Count == 0)
        {
            return;
        }

        _wakeRegistered = true;
        try
        {
            await this.RegisterOrUpdateReminder(WakeReminder, _storage.WakePeriod, _storage.WakePeriod);
        }
        catch (Exception ex)
        {
            _wakeRegistered = false;
            LogStorageError(logger, _tenantId, ex);
        }
    }

    // With durable storage, returns once the change is stored, with a reminder to resume the work after a crash. Memory
    // storage is written when the grain deactivates; it needs a reminder only for work that waits (see Complete).
    private async Task PersistAsync()
    {
        if (_storage.IsDurable)
        {
            await FlushAsync(includeHistory: false);
            await EnsureWakeAsync();
        }
    }

    private void MarkDirty()
    {
        _dirty = true;
        ReportLoad();
    }

    // Returns once every change made before the call is stored, sharing writes with concurrent callers.
    private Task FlushAsync(bool includeHistory)
    {
        _historyRequested |= includeHistory;
        if (!_dirty && !(_historyRequested && _historyDirty))
        {
            return _currentWrite?.Task ?? Task.CompletedTask;
        }

        _nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = _nextWrite.Task;
        _writing ??= WriteAsync();
        return written;
    }

    private async Task WriteAsync()
    {
        try
        {
            while (_nextWrite is { } waiters)
            {
                _nextWrite = null;
                _currentWrite = waiters;
                var writeState = _dirty;
                var writeHistory = _historyRequested && _historyDirty;
                _dirty = false;
                _historyDirty &= !writeHistory;
                _historyRequested = false;
                try
                {
                    if (writeState)
                    {
                        State.Pending = [.. _pending.Values];
                        await state.WriteStateAsync();
                    }

                    if (writeHistory)
                    {
                        await history.WriteStateAsync();
                    }

                    waiters.TrySetResult();
                }
                catch (Exception ex)
                {
                    _dirty |= writeState;
                    _historyDirty |= writeHistory;
                    waiters.TrySetException(ex);
                }
                finally
                {
                    _currentWrite = null;
                }
            }
        }
        finally
        {
            _writing = null;
        }
    }

    private void RecordAttempt(DeliveryAttempt attempt)
    {
        if (_delivery.HistorySize == 0)
        {
            return;
        }

        var attempts = history.State.Attempts;
        attempts.Add(attempt);
        if (attempts.Count > _delivery.HistorySize)
        {
            attempts.RemoveRange(0, attempts.Count - _delivery.HistorySize);
        }

        _historyDirty = true;
    }

    private async Task PublishStatusAsync()
    {
        try
        {
            var status = State.Endpoint.ToStatus(_tenantId);
            await this.GetStreamProvider(WebhookStreams.ProviderName)
                .GetStream<EndpointStatus>(StreamId.Create(WebhookStreams.EndpointStatusNamespace, _tenantId))
                .OnNextAsync(status);
        }
        catch (Exception ex)
        {
            LogStatusPublishFailed(logger, _tenantId, ex);
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
        metrics.Filtered(_tenantId, reason);

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

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivered event {EventId} to tenant {TenantId} on attempt {Attempt}: HTTP {StatusCode} in {ElapsedMs:0.0} ms")]
    private static partial void LogDelivered(ILogger logger, string tenantId, string eventId, int attempt, int statusCode, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of event {EventId} ({EventName}) to tenant {TenantId} failed on attempt {Attempt}: {Outcome}, status {StatusCode}: {Reason}. Response: {ResponseExcerpt}. Further failures in a row are logged at Debug until a delivery succeeds")]
    private static partial void LogEndpointFailing(ILogger logger, string tenantId, string eventId, string eventName, int attempt, int? statusCode, string outcome, string? reason, string? responseExcerpt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint of tenant {TenantId} recovered after {Failures} failed attempt(s) in a row")]
    private static partial void LogRecovered(ILogger logger, string tenantId, int failures);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Delivery of event {EventId} ({EventName}) to tenant {TenantId} failed on attempt {Attempt}: {Outcome}, status {StatusCode}: {Reason}. Response: {ResponseExcerpt}")]
    private static partial void LogAttemptFailed(ILogger logger, string tenantId, string eventId, string eventName, int attempt, int? statusCode, string outcome, string? reason, string? responseExcerpt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery of event {EventId} ({EventName}) to tenant {TenantId} failed before sending")]
    private static partial void LogDeliveryError(ILogger logger, string tenantId, string eventId, string eventName, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({EventName}) for tenant {TenantId} kept as failed after {Attempts} attempt(s): {Reason}. Last error: {LastError}")]
    private static partial void LogKeptFailed(ILogger logger, string tenantId, string eventId, string eventName, string reason, int attempts, string? lastError);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId} keeps too many failed events: dropped the {Count} oldest ({EventIds})")]
    private static partial void LogFailedEvicted(ILogger logger, string tenantId, int count, string eventIds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {TenantId}: {Count} failed event(s) expired after {Retention}")]
    private static partial void LogFailedExpired(ILogger logger, string tenantId, int count, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint of tenant {TenantId} disabled: {Reason}. New events are kept as failed until it is enabled")]
    private static partial void LogEndpointDisabled(ILogger logger, string tenantId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint of tenant {TenantId} enabled")]
    private static partial void LogEnabled(ILogger logger, string tenantId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {TenantId}: replayed {Count} failed event(s); {Remaining} left for lack of room")]
    private static partial void LogReplayed(ILogger logger, string tenantId, int count, int remaining);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tenant {TenantId} resumed {Pending} undelivered event(s), {Retrying} waiting for a retry")]
    private static partial void LogResumed(ILogger logger, string tenantId, int pending, int retrying);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} ({EventName}) for tenant {TenantId} not delivered: {Reason}")]
    private static partial void LogFiltered(ILogger logger, string tenantId, string eventId, string eventName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} ({EventName}) for tenant {TenantId} not delivered: {Reason}; further events kept back for this reason are logged at Debug")]
    private static partial void LogFilteredFirst(ILogger logger, string tenantId, string eventId, string eventName, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId} lost {Pending} undelivered events ({InFlight} in flight) at shutdown: memory storage does not outlive the silo")]
    private static partial void LogLostOnShutdown(ILogger logger, string tenantId, int pending, int inFlight);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tenant {TenantId} could not write its state")]
    private static partial void LogStorageError(ILogger logger, string tenantId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId} could not publish its endpoint status")]
    private static partial void LogStatusPublishFailed(ILogger logger, string tenantId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId} could not wake itself for its retries; its reminder will")]
    private static partial void LogRetryWakeFailed(ILogger logger, string tenantId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream error for tenant {TenantId}")]
    private static partial void LogStreamError(ILogger logger, string tenantId, Exception exception);
}
