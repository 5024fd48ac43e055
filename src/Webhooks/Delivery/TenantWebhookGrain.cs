using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Streams;
using Orleans.Streams.Core;
using Webhooks.Configuration;
using Webhooks.Dispatch;
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
    TenantGrainServices services)
    : Grain, ITenantWebhookGrain, ITenantRetryTimer, IStreamSubscriptionObserver, IAsyncObserver<WebhookEvent>, IRemindable, ITenantLoad
{
    private const string WakeReminder = "webhooks-wake";

    // Gateways spend credits within the lease; the grain keeps the room a while longer for events still in the stream.
    // The grace is short: credits a gateway let lapse still count against the silo's backlog until it ends.
    private static readonly TimeSpan AdmissionLease = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AdmissionGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FullBufferRetryAfter = TimeSpan.FromSeconds(1);

    // A tenant starts with a few deliveries in flight and earns more with each answer, up to delivery.max_concurrency.
    private const int InitialConcurrency = 4;

    // The most payloads built in one call to the builder grain.
    private const int PayloadBatch = 32;

    // Direct publishes waiting for room, in line, oldest first. Room that frees is handed to as many as it fits, each
    // woken on its own: with many publishers on one tenant, waking all of them for each delivery that ended cost a turn
    // each, and all but one found the room taken again. A publish that arrives while others wait joins the line.
    private LinkedList<TaskCompletionSource>? _roomWaiters;

    // Publishes woken with room that have not yet taken it: the room is theirs.
    private int _roomHandedOut;

    // Every undelivered event by id; each is also in exactly one of: the ready queue, the retry queue, or in flight.
    // Both are let go while the tenant has nothing to deliver (see TrimWhenIdle): a silo holds many idle grains.
    private Dictionary<string, PendingDelivery>? _pending;
    private Queue<PendingDelivery>? _ready;
    private PriorityQueue<PendingDelivery, DateTimeOffset>? _retrying;

    // Credits promised to gateways for events still in the stream; null while none are open.
    private AdmissionLedger? _admissions;
    private Dictionary<string, long>? _filtered;

    private string _tenantId = "";
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

    // Deliveries started that hold no silo slot yet, and whether the line waits for one of them to get its slot; read
    // and changed from the thread pool too.
    private int _awaitingSlot;
    private int _heldBack;
    private TaskScheduler _grainScheduler = TaskScheduler.Default;
    private int _inFlightCount;
    private int _failedKept;
    private bool _endpointDown;
    private Queue<PendingDelivery>? _requeued;

    // Events being accepted now, between the duplicate check and the idempotency record; null while there are none.
    // An event's outcome is signalled only once a second publish of it waits for it.
    private Dictionary<string, TaskCompletionSource<bool>?>? _accepting;
    private bool _deactivating;
    private bool _released;
    private bool _wakeRegistered;
    private ITimer? _timer;
    private DateTimeOffset _timerDue = DateTimeOffset.MaxValue;

    // With durable storage, when changes not yet written (delivery outcomes, attempt history) are written at the latest.
    private DateTimeOffset _flushDue = DateTimeOffset.MaxValue;

    // The attempt history; history.State holds it only while it is written.
    private AttemptLog? _attempts;

    // Storage writes: changes mark the state dirty; one write at a time carries every change made before it began.
    private bool _dirty;
    private bool _historyDirty;
    private bool _historyRequested;
    private Task? _writing;
    private TaskCompletionSource? _nextWrite;
    private TaskCompletionSource? _currentWrite;
    private TaskCompletionSource? _landed;

    private WebhookSettingsMonitor Settings => services.Settings;

    private DeliveryOptions Delivery => services.Delivery;

    private FailedEventOptions FailedOptions => services.Failed;

    private StorageOptions Storage => services.Storage;

    private IIdempotencyStore Idempotency => services.Idempotency;

    private PayloadValidator Validator => services.Validator;

    private WebhookSender Sender => services.Sender;

    private DeliverySlots Slots => services.Slots;

    private SiloBacklog Backlog => services.Backlog;

    private WebhookMetrics Metrics => services.Metrics;

    private DeliveryGauges Gauges => services.Gauges;

    private TimeProvider Clock => services.Clock;

    private ILogger Logger => services.Logger;

    private TenantDeliveryState State => state.State;

    int ITenantLoad.Buffered => ReadyCount;

    int ITenantLoad.InFlight => _inFlightCount;

    int ITenantLoad.Retrying => RetryingCount;

    int ITenantLoad.Failed => _failedKept;

    bool ITenantLoad.Disabled => _endpointDown;

    private DateTimeOffset Now => Clock.GetUtcNow();

    private int PendingCount => _pending?.Count ?? 0;

    private int ReadyCount => _ready?.Count ?? 0;

    private int RetryingCount => _retrying?.Count ?? 0;

    private int Room => Math.Min(TenantRoom, SiloRoom);

    // Direct publishes waiting for room: those in line, and those handed room they have not taken yet.
    private int WaitingForRoom => (_roomWaiters?.Count ?? 0) + _roomHandedOut;

    // Events pending (waiting, in flight or in retry) or promised to a gateway, against what the tenant may hold.
    private int TenantRoom => Delivery.MaxConcurrency + Delivery.BufferSize - PendingCount - Outstanding(Now.UtcTicks);

    // This tenant's share of the silo's backlog: it may hold no more than the silo has free. Tenants that stop
    // draining thus fill the backlog only in part, and a tenant that holds little still finds room (the dynamic
    // threshold of shared-buffer switches).
    private int SiloRoom => Backlog.Room - _held;

    private OverflowReason FullBound => BoundAt(TenantRoom);

    // Which bound refuses when nothing fits: the tenant's own, while it has no room left, else the silo's.
    private static OverflowReason BoundAt(int tenantRoom) => tenantRoom <= 0 ? OverflowReason.TenantBufferFull : OverflowReason.SiloBacklogFull;

    // What this grain has counted into the silo's Backlog.
    private int _held;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The configured tenant's id, when there is one, rather than a string of its own for each activation.
        var key = this.GetPrimaryKeyString();
        _tenantId = Settings.Current.Find(key)?.TenantId ?? key;
        Gauges.Track(_tenantId, this);
        _grainScheduler = TaskScheduler.Current;
        _concurrency = Math.Min(InitialConcurrency, Delivery.MaxConcurrency);
        if (history.State.Attempts.Count > 0)
        {
            _attempts = AttemptLog.From(history.State.Attempts, Delivery.HistorySize);
            history.State.Attempts = [];
        }

        var now = Now;
        foreach (var pending in State.Pending)
        {
            (_pending ??= new(StringComparer.Ordinal))[pending.Event.Id] = pending;
            if (State.Endpoint.Disabled)
            {
                // Out when the endpoint was disabled and stored before their outcome came: kept failed, as the
                // endpoint's other events were, rather than waiting in a line that a disabled endpoint never starts.
                KeepFailed(pending, FailureReasons.EndpointDisabled);
                continue;
            }

            Schedule(pending, now);
        }

        ExpireFailed(now);
        if (PendingCount > 0)
        {
            LogResumed(Logger, _tenantId, PendingCount, RetryingCount);
            await EnsureWakeAsync();
        }

        ArmTimer();
        Pump();
    }

    public Task OnSubscribed(IStreamSubscriptionHandleFactory handleFactory) =>
        handleFactory.Create<WebhookEvent>().ResumeAsync(this);

    public async Task OnNextAsync(WebhookEvent item, StreamSequenceToken? token = null)
    {
        _admissions?.Use(Now.UtcTicks);
        await TakeAsync(item, refuseWhenFull: false);
    }

    public Task OnCompletedAsync() => Task.CompletedTask;

    public Task OnErrorAsync(Exception ex)
    {
        LogStreamError(Logger, _tenantId, ex);
        return Task.CompletedTask;
    }

    public async Task<string> Publish(WebhookEvent webhookEvent)
    {
        ArgumentNullException.ThrowIfNull(webhookEvent);
        var normalized = WebhookEventRules.Normalize(
            string.IsNullOrEmpty(webhookEvent.TenantId) ? webhookEvent with { TenantId = _tenantId } : webhookEvent,
            Clock);
        var errors = WebhookEventRules.Validate(normalized);
        if (errors.Count == 0 && normalized.TenantId != _tenantId)
        {
            errors.Add(new("tenant_id", $"names another tenant than this grain's '{_tenantId}'"));
        }

        if (errors.Count == 0)
        {
            errors.AddRange(Validator.Validate(normalized));
        }

        if (RequestContext.Get(WebhookMetrics.PublishCountedKey) is not true)
        {
            Metrics.Published(_tenantId, normalized.EventName);
        }

        if (errors.Count > 0)
        {
            Metrics.Refused(_tenantId, RefusalReasons.Invalid);
            throw new WebhookValidationException(errors);
        }

        await TakeAsync(normalized, refuseWhenFull: true);
        Metrics.Accepted(_tenantId, normalized.EventName);
        return normalized.Id;
    }

    public Task<AdmissionGrant> Admit(int requested)
    {
        if (Storage.IsDurable)
        {
            return Task.FromResult(new AdmissionGrant(0, AdmissionLease, FullBufferRetryAfter, Settings.Current.Topic, Durable: true));
        }

        var now = Now.UtcTicks;

        // Direct publishes waiting in line come first: each will hold one more event. A credit, like an event held,
        // adds one to what this tenant holds and takes one from what the silo has free, so each shrinks the tenant's
        // share of the backlog by two: a batch gets as many as single publishes, one after another, would.
        var waiting = WaitingForRoom;
        var tenantRoom = TenantRoom - waiting;
        var credits = Math.Clamp(requested, 0, Math.Max(Math.Min(tenantRoom, (SiloRoom - (2 * waiting) + 1) / 2), 0));
        var refusal = credits > 0 ? OverflowReason.TenantBufferFull : BoundAt(tenantRoom);
        if (credits > 0)
        {
            (_admissions ??= new()).Add(credits, now + (AdmissionLease + AdmissionGrace).Ticks);
        }

        CountHeld();
        ArmTimer();
        return Task.FromResult(new AdmissionGrant(credits, AdmissionLease, FullBufferRetryAfter, Settings.Current.Topic, Refusal: refusal));
    }

    public Task<TenantWebhookStats> GetStats() => Task.FromResult(new TenantWebhookStats
    {
        Received = _received,
        Delivered = _delivered,
        Failed = _failedCount,
        Filtered = _filtered is null ? [] : new Dictionary<string, long>(_filtered),
        Refused = _refused,
        Dropped = _dropped,
        Buffered = ReadyCount,
        InFlight = _inFlightCount,
        Reserved = Outstanding(Now.UtcTicks),
        Retrying = RetryingCount,
        FailedKept = State.Failed.Count,
        Retries = _retries,
        WaitingForRoom = WaitingForRoom,
    });

    public Task<FailedDelivery[]> GetFailed() => Task.FromResult(State.Failed.ToArray());

    public Task<ReplayResult> Replay(string eventId) => ReplayAsync(failed => failed.Event.Id == eventId);

    public Task<ReplayResult> ReplaySince(DateTimeOffset since) => ReplayAsync(failed => failed.FailedAt >= since);

    public Task<DeliveryAttempt[]> GetAttempts(int limit) => Task.FromResult(_attempts?.Newest(limit) ?? []);

    public Task<EndpointStatus> GetEndpointStatus() => Task.FromResult(State.Endpoint.ToStatus(_tenantId));

    public async Task<EndpointStatus> Enable()
    {
        if (State.Endpoint.Disabled)
        {
            State.Endpoint.Enable();
            MarkDirty();
            LogEnabled(Logger, _tenantId);

            // Events resumed from storage while the endpoint was disabled wait in line for it.
            Pump();
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

        if (PendingCount == 0)
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
        if (_timer is not null)
        {
            await _timer.DisposeAsync();
            _timer = null;
        }

        var shuttingDown = reason.ReasonCode == DeactivationReasonCode.ShuttingDown;
        // Stored as it stands, then again as each outcome comes in: once the runtime's time is up nothing can be
        // stored, and a delivery whose outcome was not stored is sent again when the tenant resumes. One that lands
        // during a write is stored by the next.
        while (_inFlightCount > 0 && !cancellationToken.IsCancellationRequested)
        {
            _landed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await StoreAsync(shuttingDown, cancellationToken);
            try
            {
                await _landed.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            await StoreAsync(shuttingDown, cancellationToken);
        }

        try
        {
            // At shutdown the reminder service is stopping too; a stale reminder unregisters itself on its next tick.
            if (PendingCount == 0 && _wakeRegistered && !shuttingDown && !cancellationToken.IsCancellationRequested
                && await this.GetReminder(WakeReminder) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            LogStorageError(Logger, _tenantId, ex);
        }

        Gauges.Untrack(_tenantId, this);
        Backlog.Change(-_held);
        _held = 0;
        _released = true;
        if (PendingCount > 0 && !Storage.IsDurable && shuttingDown)
        {
            // Memory storage ends with the silo: these events are lost, and that is said out loud.
            _dropped += PendingCount;
            Metrics.Dropped(_tenantId, DropReasons.Shutdown, PendingCount);
            LogLostOnShutdown(Logger, _tenantId, PendingCount, _inFlightCount);
        }
    }

    // Writes what is left and keeps the wake reminder while anything is; errors are logged, as deactivation goes on.
    private async Task StoreAsync(bool shuttingDown, CancellationToken cancellationToken)
    {
        // Memory storage is itself a grain, already gone when the silo shuts down: there is nothing to write to.
        if (!Storage.IsDurable && shuttingDown)
        {
            return;
        }

        try
        {
            await FlushAsync(includeHistory: true).WaitAsync(cancellationToken);
            await EnsureWakeAsync().WaitAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            LogStorageError(Logger, _tenantId, ex);
        }
    }

    // Takes an event for delivery, unless a rule keeps it back or the tenant already has it.
    private async Task TakeAsync(WebhookEvent webhookEvent, bool refuseWhenFull)
    {
        using var scope = WebhookLogScopes.Event(Logger, _tenantId, webhookEvent.Id);
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

        if (IsPending(webhookEvent.Id))
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
            if (await Idempotency.ContainsAsync(_tenantId, webhookEvent.Id))
            {
                _received++;
                Filter(webhookEvent, FilterReasons.Duplicate);
                outcome = true;
                return;
            }

            if (refuseWhenFull && (Room <= 0 || WaitingForRoom > 0) && !await WaitForRoomAsync())
            {
                var bound = FullBound;
                _refused++;
                Metrics.Refused(_tenantId, RefusalReasons.Of(bound));
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
                Add(pending);

                // With durable storage an event is delivered only once it is stored: a write that fails refuses the
                // publish, and the publisher's retry must not find the event already delivered.
                if (!Storage.IsDurable)
                {
                    Ready(pending);
                    Pump();
                }
            }

            MarkDirty();
            try
            {
                await PersistAsync();
            }
            catch
            {
                // The publish is refused: the event is taken back, whether it waits or was kept failed, so that the
                // publisher's retry does not find a copy of it.
                var keptFailed = State.Failed.FindLastIndex(failed => ReferenceEquals(failed.Event, webhookEvent));
                if (IsCurrent(pending) && !pending.InFlight)
                {
                    _pending.Remove(webhookEvent.Id);
                }
                else if (keptFailed >= 0)
                {
                    State.Failed.RemoveAt(keptFailed);
                    _failedCount--;
                }
                else
                {
                    throw;
                }

                _received--;
                MarkDirty();
                throw;
            }

            if (Storage.IsDurable && IsCurrent(pending) && !pending.InFlight)
            {
                Ready(pending);
                Pump();
            }

            try
            {
                await Idempotency.AddAsync(_tenantId, webhookEvent.Id);
            }
            catch (Exception ex) when (Storage.IsDurable)
            {
                // The event is stored and will be delivered: refusing the publish now would have its publisher send
                // it again once it has gone. Only a repeat published after its delivery is no longer recognised.
                LogIdempotencyError(Logger, _tenantId, webhookEvent.Id, ex);
            }

            outcome = true;
        }
        finally
        {
            _accepting!.Remove(webhookEvent.Id, out var waiting);

            // Kept while the tenant has events to deliver, as more are likely to come; let go of when it is idle.
            TrimWhenIdle();
            waiting?.SetResult(outcome);
        }
    }

    // Waits up to ingest.max_wait for room, as the gateway does: a publisher is refused only when the wait runs out.
    private async Task<bool> WaitForRoomAsync()
    {
        var deadline = Now + services.MaxWait;
        var place = (_roomWaiters ??= new()).AddLast(NewRoomWaiter());
        try
        {
            WakeWaiters();
            while (true)
            {
                if (place.Value.Task.IsCompleted)
                {
                    _roomHandedOut--;
                    if (Room > 0)
                    {
                        return true;
                    }

                    // A gateway's admission or another tenant took the room meanwhile: first in line again.
                    place.Value = NewRoomWaiter();
                    (_roomWaiters ??= new()).AddFirst(place);
                }

                var remaining = deadline - Now;
                if (remaining <= TimeSpan.Zero)
                {
                    return false;
                }

                // Room frees as this tenant's deliveries end, and wakes the first in line. The silo's backlog also
                // frees on other grains, which the silo's next poll finds; the deadline may come first.
                await Task.WhenAny(place.Value.Task, remaining < SiloBacklog.PollInterval ? Task.Delay(remaining, Clock) : Backlog.NextPoll);
                if (!place.Value.Task.IsCompleted)
                {
                    WakeWaiters();
                }
            }
        }
        finally
        {
            place.List?.Remove(place);
            if (_roomWaiters is { Count: 0 })
            {
                _roomWaiters = null;
            }
        }
    }

    private static TaskCompletionSource NewRoomWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Starts deliveries while there is room in flight. Rules are checked again, as the configuration may have changed.
    private void Pump()
    {
        if (_pumping)
        {
            return;
        }

        if (_deactivating || State.Endpoint.Disabled)
        {
            // Nothing starts, but what this grain holds may have changed, as when a delivery ends.
            ReportLoad();
            return;
        }

        _pumping = true;
        List<PendingDelivery>? batch = null;
        try
        {
            while (_inFlightCount < _concurrency)
            {
                if (!MayStartAnother)
                {
                    // The next in line starts as soon as this tenant's waiting delivery gets its slot.
                    if (ReadyCount + (_requeued?.Count ?? 0) > 0)
                    {
                        Volatile.Write(ref _heldBack, 1);
                    }

                    break;
                }

                if (!TryTakeNext(out var next))
                {
                    break;
                }

                // A queue may still hold an event that has since left, or been replaced by its replay.
                if (!IsCurrent(next) || next.InFlight)
                {
                    continue;
                }

                if (FilterReason(next.Event) is { } reason)
                {
                    // The configuration changed since the event was accepted. An exclusion is the tenant's choice; a
                    // tenant gone or switched off must not cost the event: it is kept for replay.
                    using var scope = WebhookLogScopes.Event(Logger, _tenantId, next.Event.Id);
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

                next.InFlight = true;
                _inFlightCount++;
                Interlocked.Increment(ref _awaitingSlot);
                (batch ??= []).Add(next);
            }
        }
        finally
        {
            _pumping = false;
        }

        if (batch is not null)
        {
            Deliver(batch);
        }

        if (_inFlightCount > 0)
        {
            // Deliveries run beside the grain's calls; keep the activation while they do.
            DelayDeactivation(Delivery.Timeout + TimeSpan.FromMinutes(1));
        }

        ReportLoad();
    }

    // A delivery starts only when a silo slot could be free for it, or when none of this tenant's waits for one: while
    // every slot is taken, one delivery waits for the next and the rest wait in line as events, not as started
    // requests that each hold their payload and state until a slot frees.
    private bool MayStartAnother => Volatile.Read(ref _awaitingSlot) is var awaiting && (awaiting == 0 || awaiting < Slots.Available);

    // Events sent back in line go first, then those that wait.
    private bool TryTakeNext(out PendingDelivery next)
    {
        if (_requeued is not null && _requeued.TryDequeue(out next!))
        {
            return true;
        }

        if (_ready is not null && _ready.TryDequeue(out next!))
        {
            return true;
        }

        next = null!;
        return false;
    }

    // Credits granted and neither used nor lapsed; the ledger is let go once none are.
    private int Outstanding(long now)
    {
        var outstanding = _admissions?.Outstanding(now) ?? 0;
        if (outstanding == 0)
        {
            _admissions = null;
        }

        return outstanding;
    }

    // Keeps the silo's backlog in step with what this grain holds: its undelivered events and its promises.
    private void CountHeld()
    {
        // A delivery that lands after its grain deactivated must not count again what the grain gave back.
        if (_released)
        {
            return;
        }

        var held = PendingCount + Outstanding(Now.UtcTicks);
        Backlog.Change(held - _held);
        _held = held;
    }

    private void ReportLoad()
    {
        // Grain state may be read only on the grain's scheduler; scrapes read these copies.
        _failedKept = State.Failed.Count;
        _endpointDown = State.Endpoint.Disabled;
        CountHeld();
        if (_roomWaiters is not null)
        {
            WakeWaiters();
        }
    }

    // Hands the room there is to the first in line, one publish for each event it fits.
    private void WakeWaiters()
    {
        for (var room = Room - _roomHandedOut; room > 0 && _roomWaiters?.First is { } first; room--)
        {
            _roomWaiters.RemoveFirst();
            _roomHandedOut++;
            first.Value.TrySetResult();
        }
    }

    // Sends a batch of events, each on its own. Payloads are built in one call to the builder grain, for those of the
    // batch that have none yet and for the next few in line, so that under load, when each delivery that ends starts
    // one more, a delivery seldom waits for a builder call of its own. A build is awaited on the thread pool, so that
    // each send starts as soon as its payload is ready, without first waiting for a turn on this grain's scheduler.
    private void Deliver(List<PendingDelivery> batch)
    {
        List<PendingDelivery>? unbuilt = null;
        foreach (var pending in batch)
        {
            if (!pending.HasBuild)
            {
                (unbuilt ??= []).Add(pending);
            }
        }

        if (unbuilt is not null)
        {
            var due = unbuilt.Count;
            BuildAhead(unbuilt);
            var events = new WebhookEvent[unbuilt.Count];
            for (var i = 0; i < unbuilt.Count; i++)
            {
                events[i] = unbuilt[i].Event;
            }

            var built = BuildAsync(services.Builder, events, due);
            for (var i = 0; i < unbuilt.Count; i++)
            {
                unbuilt[i].BuildWith(built, i);
            }
        }

        foreach (var pending in batch)
        {
            _ = SendAsync(pending);
        }
    }

    // Adds the next in line that have no payload yet, up to PayloadBatch in all. Those built ahead come first in line,
    // so only the first few are looked at.
    private void BuildAhead(List<PendingDelivery> unbuilt)
    {
        if (_ready is null)
        {
            return;
        }

        var looked = 0;
        foreach (var next in _ready)
        {
            if (unbuilt.Count >= PayloadBatch || ++looked > 2 * PayloadBatch)
            {
                return;
            }

            if (!next.HasBuild && !next.InFlight && IsCurrent(next))
            {
                unbuilt.Add(next);
            }
        }
    }

    // Runs on the thread pool. Never throws: an event whose payload could not be built has none, and its error says why.
    // The first `due` events are those about to be sent; the rest are built ahead.
    private static async Task<BuiltPayloads> BuildAsync(IPayloadBuilderGrain builder, WebhookEvent[] events, int due)
    {
        await ThreadPoolSwitch.Instance;
        try
        {
            return new(await builder.BuildAll(events), null, due);
        }
        catch (Exception ex)
        {
            // One builder failed, or the call did: those due are built one by one, so that only a failing one fails.
            // Those built ahead are built again in their turn.
            var payloads = new string?[events.Length];
            var errors = new Exception?[events.Length];
            Array.Fill(errors, ex);
            for (var i = 0; i < due && events.Length > 1; i++)
            {
                try
                {
                    payloads[i] = await builder.Build(events[i]);
                    errors[i] = null;
                }
                catch (Exception single)
                {
                    errors[i] = single;
                }
            }

            return new(payloads, errors, due);
        }
    }

    // Every delivery it starts lands: a failure before the request is out (a log scope or a trace listener that
    // throws, say) is this attempt's error, retried like any other, so that the event neither stays in flight for ever
    // nor keeps its place in the wait for a slot.
    private async Task SendAsync(PendingDelivery pending)
    {
        var (built, index) = pending.Build;
        var webhookEvent = pending.Event;
        var started = Now;
        var handedOver = false;
        IDisposable? scope = null;
        Activity? activity = null;
        try
        {
            DeliveryResult result;
            try
            {
                scope = WebhookLogScopes.Event(Logger, _tenantId, webhookEvent.Id);
                activity = WebhookTracing.StartDelivery(webhookEvent, pending.TraceParent, pending.Attempts + 1);

                // The wait for the payload, for a silo slot and the request run on the thread pool: a slot is held
                // only while its request is out, never while its continuation waits its turn on a busy grain scheduler.
                handedOver = true;
                if (await SendWhenBuiltAsync(built, index, webhookEvent, pending.TraceParent) is not { } sent)
                {
                    // The tenant left the configuration while its payload was built, or its endpoint started failing
                    // while this delivery waited for a slot: it goes back in line, where the rules are checked again.
                    // A disabled endpoint starts nothing from its line, so there the event is kept failed, as the
                    // endpoint's other waiting events were when it was disabled.
                    Landed(pending);
                    if (!State.Endpoint.Disabled)
                    {
                        (_requeued ??= new()).Enqueue(pending);
                    }
                    else if (IsCurrent(pending))
                    {
                        KeepFailed(pending, FailureReasons.EndpointDisabled);
                    }

                    Pump();
                    return;
                }

                result = sent;
            }
            catch (Exception ex)
            {
                if (!handedOver)
                {
                    // SendWhenBuiltAsync, which gives back this delivery's place in the wait for a slot, never ran.
                    Interlocked.Decrement(ref _awaitingSlot);
                }

                LogDeliveryError(Logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, ex);
                result = new DeliveryResult(DeliveryOutcomes.Error, null, $"{ex.GetType().Name}: {ex.Message}", Now - started, null);
            }

            activity?.SetTag("http.response.status_code", result.StatusCode);
            activity?.SetTag("webhooks.outcome", result.Outcome);
            activity?.SetStatus(result.Succeeded ? ActivityStatusCode.Ok : ActivityStatusCode.Error, result.Succeeded ? null : result.Outcome);
            Finish(pending, result, started);
        }
        finally
        {
            activity?.Dispose();
            scope?.Dispose();
        }
    }

    // Runs on the thread pool, so it reads only what never changes or is safe to read from any thread. Returns null,
    // having sent nothing, when the tenant has left the configuration, or already has as many requests out as its
    // back-off allows; the counters it reads are written by the grain, so they are read and changed atomically.
    private async Task<DeliveryResult?> SendWhenBuiltAsync(Task<BuiltPayloads> built, int index, WebhookEvent webhookEvent, string? traceParent)
    {
        var awaitingSlot = true;
        try
        {
            await ThreadPoolSwitch.Instance;
            var payloads = await built;
            var payload = payloads.Payloads[index];
            var error = payloads.Errors?[index];
            if (payload is null && error is not null && index >= payloads.Due)
            {
                // Built ahead in a call that failed: built on its own now, in its turn, as it would have been.
                try
                {
                    payload = await services.Builder.Build(webhookEvent);
                }
                catch (Exception single)
                {
                    error = single;
                }
            }

            if (payload is null)
            {
                if (error is null)
                {
                    return new DeliveryResult(DeliveryOutcomes.Error, null, "the payload builder returned no payload", TimeSpan.Zero, null);
                }

                LogDeliveryError(Logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, error);
                return new DeliveryResult(DeliveryOutcomes.Error, null, $"the payload builder failed: {error.GetType().Name}: {error.Message}", TimeSpan.Zero, null);
            }

            if (Settings.Current.Find(_tenantId) is not { } tenant)
            {
                return null;
            }

            await Slots.WaitAsync(tenant.TenantId);
            awaitingSlot = false;
            Interlocked.Decrement(ref _awaitingSlot);
            if (Interlocked.Exchange(ref _heldBack, 0) == 1)
            {
                // Queue the next delivery for a slot now, while this one is out: when this one gives its slot back,
                // a tenant with nothing waiting would lose it to another tenant's waiting delivery.
                _ = Task.Factory.StartNew(static grain => ((TenantWebhookGrain)grain!).Pump(), this, CancellationToken.None, TaskCreationOptions.None, _grainScheduler);
            }

            try
            {
                if (Interlocked.Increment(ref _sending) > Volatile.Read(ref _concurrency))
                {
                    return null;
                }

                return await Sender.SendAsync(tenant, webhookEvent, payload, traceParent, CancellationToken.None);
            }
            finally
            {
                Interlocked.Decrement(ref _sending);
                Slots.Release(tenant.TenantId);
            }
        }
        finally
        {
            if (awaitingSlot)
            {
                Interlocked.Decrement(ref _awaitingSlot);
            }
        }
    }

    private void Landed(PendingDelivery pending)
    {
        pending.InFlight = false;
        _inFlightCount--;
        // A deactivation waiting for outcomes stores this one after the current turn, once it is recorded.
        _landed?.TrySetResult();
    }

    private void Finish(PendingDelivery pending, DeliveryResult result, DateTimeOffset started)
    {
        Landed(pending);
        pending.ForgetBuild();
        AdjustConcurrency(result);
        Complete(pending, result, started);
        Pump();
        TrimWhenIdle();
    }

    private bool IsPending(string eventId) => _pending?.ContainsKey(eventId) == true;

    // Whether the event is still undelivered here as this entry, not gone or replaced by its replay.
    [MemberNotNullWhen(true, nameof(_pending))]
    private bool IsCurrent(PendingDelivery pending) =>
        _pending is not null && _pending.TryGetValue(pending.Event.Id, out var current) && current == pending;

    private void Add(PendingDelivery pending) => (_pending ??= new(StringComparer.Ordinal)).Add(pending.Event.Id, pending);

    private void Ready(PendingDelivery pending) => (_ready ??= new()).Enqueue(pending);

    // A tenant with nothing left to deliver lets go of its queues' storage: a silo holds many such grains.
    private void TrimWhenIdle()
    {
        if (_pending is { Count: 0 })
        {
            _pending = null;
        }

        if (_ready is { Count: 0 })
        {
            _ready = null;
        }

        if (_accepting is { Count: 0 } && _pending is null)
        {
            _accepting = null;
        }
    }

    // Records an attempt's outcome and decides what comes next for the event.
    private void Complete(PendingDelivery pending, DeliveryResult result, DateTimeOffset started)
    {
        var webhookEvent = pending.Event;
        var now = Now;
        pending.Attempts++;
        RecordAttempt(new DeliveryAttempt(webhookEvent.Id, webhookEvent.EventName, pending.Attempts, started, result.StatusCode, result.Duration, result.Outcome, result.Error, result.ResponseExcerpt));
        Metrics.Attempted(_tenantId, webhookEvent.EventName, result.Outcome, result.StatusCode, result.Duration);
        if (!IsPending(webhookEvent.Id))
        {
            return;
        }

        MarkDirty();
        if (result.Succeeded)
        {
            _pending!.Remove(webhookEvent.Id);
            _delivered++;
            Metrics.Delivered(_tenantId, webhookEvent.EventName, now - webhookEvent.Timestamp);
            if (State.Endpoint.ConsecutiveFailures > 0)
            {
                LogRecovered(Logger, _tenantId, State.Endpoint.ConsecutiveFailures);
            }

            State.Endpoint.Succeeded();
            LogDelivered(Logger, _tenantId, webhookEvent.Id, pending.Attempts, result.StatusCode ?? 0, result.Duration.TotalMilliseconds);
            return;
        }

        pending.LastStatusCode = result.StatusCode;
        pending.LastError = result.Error;

        // An attempt that failed in the engine, as when its payload could not be built, never reached the endpoint and
        // says nothing of its health: it neither starts nor extends a run of failures, nor disables the endpoint.
        var reachedEndpoint = result.Outcome != DeliveryOutcomes.Error;
        if (reachedEndpoint)
        {
            State.Endpoint.Failed(now);
        }

        // The first failure of a run is a warning; the rest of the run is at Debug, so an outage is not a line per event.
        if (State.Endpoint.ConsecutiveFailures == 1)
        {
            LogEndpointFailing(Logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, pending.Attempts, result.StatusCode, result.Outcome, result.Error, result.ResponseExcerpt);
        }
        else
        {
            LogAttemptFailed(Logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, pending.Attempts, result.StatusCode, result.Outcome, result.Error, result.ResponseExcerpt);
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

        if (reachedEndpoint && AutoDisableReason(now) is { } disableReason)
        {
            KeepFailed(pending, FailureReasons.EndpointDisabled);
            DisableEndpoint(disableReason, now);
            return;
        }

        var schedule = Settings.Current.Find(_tenantId)?.RetrySchedule ?? Delivery.EffectiveRetrySchedule;
        if (RetryPolicy.NextDelay(schedule, pending.Attempts, result.RetryAfter, Delivery.MaxRetryAfter, Delivery.RetryJitter, Random.Shared) is not { } delay)
        {
            KeepFailed(pending, FailureReasons.RetriesExhausted);
            return;
        }

        _retries++;
        Metrics.RetryScheduled(_tenantId);
        pending.DueAt = now + delay;
        Schedule(pending, now);
        ArmTimer();
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
        else if (result.StatusCode is not null && _concurrency < Delivery.MaxConcurrency)
        {
            Volatile.Write(ref _concurrency, _concurrency + 1);
        }
    }

    private string? AutoDisableReason(DateTimeOffset now)
    {
        var health = State.Endpoint;
        if (Delivery.AutoDisableFailures > 0 && health.ConsecutiveFailures >= Delivery.AutoDisableFailures)
        {
            return $"{health.ConsecutiveFailures} delivery attempts in a row failed";
        }

        return health.FailingSince is { } since && now - since >= Delivery.AutoDisableAfter
            ? $"every delivery attempt since {since:u} failed"
            : null;
    }

    // Disables the endpoint: what waits or waits for a retry is kept as failed; deliveries in flight finish.
    private void DisableEndpoint(string reason, DateTimeOffset now)
    {
        State.Endpoint.Disable(reason, now);
        foreach (var waiting in _pending?.Values.Where(p => !p.InFlight).ToList() ?? [])
        {
            KeepFailed(waiting, FailureReasons.EndpointDisabled);
        }

        _ready = null;
        _retrying = null;
        ArmTimer();
        MarkDirty();
        Metrics.EndpointDisabled(_tenantId);
        LogEndpointDisabled(Logger, _tenantId, reason);
        _ = PublishStatusAsync();
    }

    private void KeepFailed(PendingDelivery pending, string reason)
    {
        var now = Now;
        _pending?.Remove(pending.Event.Id);
        State.Failed.Add(new FailedDelivery(pending.Event, pending.Attempts, now, reason, pending.LastStatusCode, pending.LastError));
        _failedCount++;
        Metrics.Failed(_tenantId, reason);
        LogKeptFailed(Logger, _tenantId, pending.Event.Id, pending.Event.EventName, reason, pending.Attempts, pending.LastError);

        var excess = State.Failed.Count - FailedOptions.MaxPerTenant;
        if (excess > 0)
        {
            var evicted = State.Failed.Take(excess).Select(f => f.Event.Id).ToList();
            State.Failed.RemoveRange(0, excess);
            _dropped += excess;
            Metrics.Dropped(_tenantId, DropReasons.FailedStoreFull, excess);
            LogFailedEvicted(Logger, _tenantId, excess, string.Join(", ", evicted));
        }

        MarkDirty();
    }

    private void ExpireFailed(DateTimeOffset now)
    {
        var expired = State.Failed.RemoveAll(f => now - f.FailedAt > FailedOptions.Retention);
        if (expired > 0)
        {
            Metrics.Expired(_tenantId, expired);
            LogFailedExpired(Logger, _tenantId, expired, FailedOptions.Retention);
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
            if (Room <= 0 || IsPending(failed.Event.Id))
            {
                continue;
            }

            State.Failed.Remove(failed);
            var pending = new PendingDelivery { Event = failed.Event, DueAt = now };
            Add(pending);
            Ready(pending);
            replayed++;
        }

        if (replayed > 0)
        {
            MarkDirty();
            LogReplayed(Logger, _tenantId, replayed, matching.Count - replayed);
            Pump();
            await PersistAsync();
        }

        return new ReplayResult(replayed, matching.Count - replayed);
    }

    private void Schedule(PendingDelivery pending, DateTimeOffset now)
    {
        if (pending.DueAt <= now)
        {
            Ready(pending);
        }
        else
        {
            (_retrying ??= new()).Enqueue(pending, pending.DueAt);
        }
    }

    private void PromoteDueRetries()
    {
        var now = Now;
        while (_retrying is not null && _retrying.TryPeek(out var next, out var due) && due <= now)
        {
            _retrying.Dequeue();
            if (IsPending(next.Event.Id))
            {
                Ready(next);
            }
        }

        ArmTimer();
    }

    // One timer on the engine's clock (which tests replace to run whole schedules in seconds), set for whatever is due
    // first: a retry; the lapse of the oldest grant, which must leave the silo's backlog even when no other call comes;
    // the expiry of the oldest failed event; with durable storage, the write of changes made since the last. A grain
    // with nothing due has no timer. While the grain is active the timer fires on time; a reminder covers retries beyond.
    private void ArmTimer()
    {
        var now = Now;
        var due = _retrying is not null && _retrying.TryPeek(out _, out var next) ? next : DateTimeOffset.MaxValue;
        if (_admissions?.NextLapse(now.UtcTicks) is not { } lapse)
        {
            _admissions = null;
        }
        else if (lapse < due.UtcTicks)
        {
            due = new DateTimeOffset(lapse, TimeSpan.Zero);
        }

        if (NextExpiry() is { } expiry && expiry < due)
        {
            due = expiry;
        }

        if (_flushDue < due)
        {
            due = _flushDue;
        }

        if (due == _timerDue || _deactivating)
        {
            return;
        }

        _timerDue = due;
        if (due == DateTimeOffset.MaxValue)
        {
            _timer?.Dispose();
            _timer = null;
            return;
        }

        var wait = Max(due - now, TimeSpan.Zero);
        if (_timer is null)
        {
            _timer = Clock.CreateTimer(static self => ((TenantWebhookGrain)self!).OnTimer(), this, wait, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer.Change(wait, Timeout.InfiniteTimeSpan);
        }
    }

    // When the oldest failed event expires: they are kept in the order they failed, so the first goes first. Null when
    // none is kept, or the retention is too long to end.
    private DateTimeOffset? NextExpiry()
    {
        if (State.Failed.Count == 0 || FailedOptions.Retention >= DateTimeOffset.MaxValue - State.Failed[0].FailedAt - TimeSpan.FromTicks(1))
        {
            return null;
        }

        // ExpireFailed removes events older than the retention: strictly past it, hence the tick.
        return State.Failed[0].FailedAt + FailedOptions.Retention + TimeSpan.FromTicks(1);
    }

    public async Task RetryDue()
    {
        // Fired: nothing is armed until ArmTimer looks again.
        _timerDue = DateTimeOffset.MinValue;
        var now = Now;
        if (NextExpiry() <= now)
        {
            ExpireFailed(now);
        }

        PromoteDueRetries();
        Pump();
        ReportLoad();
        if (_flushDue <= now)
        {
            _flushDue = DateTimeOffset.MaxValue;
            try
            {
                await FlushAsync(includeHistory: true);
            }
            catch (Exception ex)
            {
                LogStorageError(Logger, _tenantId, ex);
                ScheduleFlush();
            }
        }

        ArmTimer();
    }

    // Runs on a timer thread, outside the grain: it only asks the grain, through a message, to see to what is due.
    private void OnTimer() => _ = WakeForTimerAsync();

    private async Task WakeForTimerAsync()
    {
        try
        {
            await services.Grains.GetGrain<ITenantRetryTimer>(_tenantId).RetryDue();
        }
        catch (Exception ex)
        {
            LogRetryWakeFailed(Logger, _tenantId, ex);
        }
    }

    // With durable storage, changes not written at once are written within storage.flush_interval.
    private void ScheduleFlush()
    {
        if (Storage.IsDurable && _flushDue == DateTimeOffset.MaxValue && !_deactivating)
        {
            _flushDue = Now + Storage.FlushInterval;
            ArmTimer();
        }
    }

    // A reminder wakes this tenant while it has undelivered events, so that they resume after a restart.
    private async Task EnsureWakeAsync()
    {
        if (_wakeRegistered || PendingCount == 0)
        {
            return;
        }

        _wakeRegistered = true;
        try
        {
            await this.RegisterOrUpdateReminder(WakeReminder, Storage.WakePeriod, Storage.WakePeriod);
        }
        catch (Exception ex)
        {
            _wakeRegistered = false;
            LogStorageError(Logger, _tenantId, ex);
        }
    }

    // With durable storage, returns once the change is stored, with a reminder to resume the work after a crash. Memory
    // storage is written when the grain deactivates; it needs a reminder only for work that waits (see Complete).
    private async Task PersistAsync()
    {
        if (Storage.IsDurable)
        {
            await FlushAsync(includeHistory: false);
            await EnsureWakeAsync();
        }
    }

    private void MarkDirty()
    {
        _dirty = true;
        ScheduleFlush();
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
                        State.Pending = _pending is null ? [] : [.. _pending.Values];
                        await state.WriteStateAsync();
                    }

                    if (writeHistory)
                    {
                        // Written as a list; the log stays the one copy kept between writes.
                        history.State.Attempts = _attempts?.ToList() ?? [];
                        await history.WriteStateAsync();
                        history.State.Attempts = [];
                    }

                    waiters.TrySetResult();
                }
                catch (Exception ex)
                {
                    _dirty |= writeState;
                    _historyDirty |= writeHistory;
                    ScheduleFlush();
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
        if (Delivery.HistorySize == 0)
        {
            return;
        }

        (_attempts ??= new(Delivery.HistorySize)).Add(attempt);
        _historyDirty = true;
        ScheduleFlush();
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
            LogStatusPublishFailed(Logger, _tenantId, ex);
        }
    }

    private string? FilterReason(WebhookEvent webhookEvent)
    {
        var current = Settings.Current;
        return DeliveryRules.FilterReason(current, current.Find(_tenantId), webhookEvent.EventName);
    }

    private void Filter(WebhookEvent webhookEvent, string reason)
    {
        _filtered ??= new(StringComparer.Ordinal);
        var count = _filtered[reason] = _filtered.GetValueOrDefault(reason) + 1;
        Metrics.Filtered(_tenantId, reason);

        // The first of each reason is worth an operator's attention; the rest are in the counter and at Debug.
        if (count == 1)
        {
            LogFilteredFirst(Logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, reason);
        }
        else
        {
            LogFiltered(Logger, _tenantId, webhookEvent.Id, webhookEvent.EventName, reason);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tenant {TenantId} accepted and stored event {EventId}, but could not record its id: a repeat of it published after its delivery would be delivered again")]
    private static partial void LogIdempotencyError(ILogger logger, string tenantId, string eventId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stream error for tenant {TenantId}")]
    private static partial void LogStreamError(ILogger logger, string tenantId, Exception exception);
}
