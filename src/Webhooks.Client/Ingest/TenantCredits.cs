using Orleans.Streams;

namespace Webhooks.Ingest;

/// <summary>
/// The room a gateway holds in one tenant's buffer: credits granted by the tenant's grain, spent one per event
/// published through the stream. Concurrent publishers for a tenant share one outstanding request to the grain.
/// </summary>
internal sealed class TenantCredits
{
    private const int MaxBatch = 64;

    private readonly Lock _lock = new();
    private int _available;
    private long _expiresAt;
    private int _nextRequest = 1;
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
                // Credits lapsed unused: this tenant is quieter than the last batch assumed.
                _nextRequest = Math.Max(1, _nextRequest / 2);
                _available = 0;
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

                // The lease runs from when the request was sent, so the gateway's view never outlives the grain's.
                _expiresAt = requestedAt + grant.Lease.Ticks;
                if (grant.Credits == size)
                {
                    _nextRequest = Math.Min(MaxBatch, size * 2);
                }

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
