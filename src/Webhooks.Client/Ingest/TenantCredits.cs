using Orleans.Streams;

namespace Webhooks.Ingest;

/// <summary>
/// The room a gateway holds in one tenant's buffer: credits granted by the tenant's grain, spent one per event
/// published through the stream. Concurrent publishers for a tenant share one outstanding request to the grain.
/// </summary>
/// <remarks>
/// A request asks for about <see cref="Horizon"/> of the tenant's publishes, at the rate it spent its last batch.
/// Every credit held takes room in the silo's backlog until it is spent or lapses with its lease, so a busy tenant
/// gets batches that save a call to its grain per event, and a quiet one asks for one at a time: were each of many
/// quiet tenants to hold a batch, their unused credits would fill the backlog and leave no room for anyone's events.
/// </remarks>
internal sealed class TenantCredits
{
    private const int MaxBatch = 64;
    private static readonly long Horizon = TimeSpan.FromMilliseconds(250).Ticks;

    private readonly Lock _lock = new();
    private int _available;
    private long _expiresAt;
    private int _nextRequest = 1;
    private int _granted;
    private long _grantedAt;
    private Task<AdmissionGrant>? _pending;
    private bool _durable;

    private ITenantWebhookGrain? _grain;
    private IAsyncStream<WebhookEvent>? _stream;

    /// <summary>The tenant's grain, resolved once.</summary>
    public ITenantWebhookGrain Grain(IGrainFactory grains, string tenantId) => _grain ??= grains.GetGrain<ITenantWebhookGrain>(tenantId);

    /// <summary>The tenant's stream on <paramref name="topic"/>, resolved once per topic.</summary>
    public IAsyncStream<WebhookEvent> Stream(IStreamProvider streams, string topic, string tenantId) =>
        _stream is { } stream && stream.StreamId.GetNamespace() == topic
            ? stream
            : _stream = streams.GetStream<WebhookEvent>(StreamId.Create(topic, tenantId));

    /// <summary>The stream namespace learnt from the last grant.</summary>
    public string? Topic { get; private set; }

    /// <summary>Whether the last grant, still within its lease, said to publish straight to the grain.</summary>
    public bool IsDurable(long now)
    {
        lock (_lock)
        {
            return _durable && now < _expiresAt;
        }
    }

    /// <summary>
    /// Takes one credit if a valid one is held. Otherwise returns the request that will bring more, starting one if none
    /// is under way.
    /// </summary>
    public bool TryTake(long now, Func<int, Task<AdmissionGrant>> request, out Task<AdmissionGrant>? pending)
    {
        lock (_lock)
        {
            if (_available > 0 && now < _expiresAt)
            {
                _available--;
                pending = null;
                return true;
            }

            if (_available > 0)
            {
                // Credits lapsed unused: this tenant is quieter than the last batch assumed. The next asks for no more
                // than it spent of this one in a whole lease.
                _nextRequest = Math.Max(1, Math.Min(_nextRequest / 2, _granted - _available));
                _available = 0;
                _granted = 0;
            }
            else if (_granted > 0)
            {
                // The last batch is spent: the next covers as long as this one did at the rate it was spent.
                _nextRequest = NextSize(_granted, now - _grantedAt, _nextRequest);
                _granted = 0;
            }

            if (_pending is null)
            {
                var started = RequestAsync(now, request);

                // A request that finished synchronously has already settled its state; only one in flight is shared.
                if (!started.IsCompleted)
                {
                    _pending = started;
                }

                pending = started;
            }
            else
            {
                pending = _pending;
            }

            return false;
        }
    }

    /// <summary>Whether nothing is held or pending, so the entry can be forgotten.</summary>
    public bool IsIdle(long now)
    {
        lock (_lock)
        {
            return _pending is null && (_available == 0 || now >= _expiresAt);
        }
    }

    // Credits for about Horizon at the rate the last batch went: at least one, and at most twice that batch or the last
    // request, whichever is more, since a grain short of room grants less than asked of a tenant that is still busy.
    private static int NextSize(int spent, long elapsed, int requested)
    {
        var most = Math.Min(MaxBatch, Math.Max(spent * 2, requested));
        return elapsed <= 0 ? most : (int)Math.Clamp(spent * Horizon / elapsed, 1, most);
    }

    private async Task<AdmissionGrant> RequestAsync(long requestedAt, Func<int, Task<AdmissionGrant>> request)
    {
        int size;
        lock (_lock)
        {
            size = _nextRequest;
        }

        try
        {
            var grant = await request(size);
            lock (_lock)
            {
                Topic = grant.Topic;
                _durable = grant.Durable;
                _available = grant.Credits;
                _granted = grant.Credits;
                _grantedAt = requestedAt;

                // The lease runs from when the request was sent, so the gateway's view never outlives the grain's.
                _expiresAt = requestedAt + grant.Lease.Ticks;
                _pending = null;
            }

            return grant;
        }
        catch
        {
            lock (_lock)
            {
                _pending = null;
            }

            throw;
        }
    }
}
