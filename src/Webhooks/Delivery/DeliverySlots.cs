using Microsoft.Extensions.Options;
using Webhooks.Configuration;

namespace Webhooks.Delivery;

/// <summary>
/// The deliveries this silo may have in flight at once, across all its tenants (<c>delivery.max_in_flight</c>). Without
/// it, many tenants each at their own limit would open more connections than the machine can serve, and every delivery
/// would slow down together.
/// </summary>
/// <remarks>
/// When every slot is taken, a freed slot goes to the waiting tenant that holds the fewest, the longest waiting first
/// among equals. A tenant whose endpoint hangs keeps its slots until the timeout; served in plain arrival order, a few
/// such tenants with many deliveries queued would take every slot in turn, and healthy tenants would wait a timeout for
/// each. Served this way, a tenant that answers fast and holds little is always next.
/// </remarks>
internal sealed class DeliverySlots(IOptions<DeliveryOptions> options)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Holder> _holders = new(StringComparer.Ordinal);

    // Tenants with waiters, by slots held then by when they joined. An entry whose version is not its holder's current
    // one is stale: the holder's count changed and it was queued again.
    private readonly PriorityQueue<(Holder Holder, int Version), (int Held, long Order)> _waiting = new();
    private int _free = options.Value.MaxInFlight;
    private long _order;

    /// <summary>Slots free now.</summary>
    public int Available
    {
        get
        {
            lock (_lock)
            {
                return _free;
            }
        }
    }

    /// <summary>Slots <paramref name="tenantId"/> holds now.</summary>
    public int HeldBy(string tenantId)
    {
        lock (_lock)
        {
            return _holders.TryGetValue(tenantId, out var holder) ? holder.Held : 0;
        }
    }

    /// <summary>Completes when <paramref name="tenantId"/> holds one more slot; give it back with <see cref="Release"/>.</summary>
    public Task WaitAsync(string tenantId)
    {
        lock (_lock)
        {
            var holder = HolderOf(tenantId);

            // Slots are handed straight to waiters as they free, so a free slot means nobody waits.
            if (_free > 0)
            {
                _free--;
                holder.Held++;
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            holder.Waiters.Enqueue(waiter);
            if (holder.Waiters.Count == 1)
            {
                Queue(holder);
            }

            return waiter.Task;
        }
    }

    /// <summary>Gives back a slot that <paramref name="tenantId"/> holds; the next waiter, if any, takes it.</summary>
    public void Release(string tenantId)
    {
        TaskCompletionSource? next;
        lock (_lock)
        {
            if (!_holders.TryGetValue(tenantId, out var holder) || holder.Held == 0)
            {
                throw new InvalidOperationException($"Tenant '{tenantId}' holds no delivery slot to release.");
            }

            holder.Held--;
            if (holder.Waiters.Count > 0)
            {
                // It holds fewer now, which moves it up.
                Queue(holder);
            }
            else if (holder.Held == 0)
            {
                _holders.Remove(tenantId);
            }

            next = NextWaiter();
        }

        next?.SetResult();
    }

    private TaskCompletionSource? NextWaiter()
    {
        while (_waiting.TryDequeue(out var entry, out _))
        {
            var holder = entry.Holder;
            if (entry.Version != holder.Version || holder.Waiters.Count == 0)
            {
                continue;
            }

            var waiter = holder.Waiters.Dequeue();
            holder.Held++;
            if (holder.Waiters.Count > 0)
            {
                Queue(holder);
            }

            return waiter;
        }

        _free++;
        return null;
    }

    private void Queue(Holder holder)
    {
        holder.Version++;
        _waiting.Enqueue((holder, holder.Version), (holder.Held, _order++));

        // Stale entries leave as they reach the front; if they pile up faster, the queue is rebuilt from the holders.
        if (_waiting.Count > 64 + (4 * _holders.Count))
        {
            _waiting.Clear();
            foreach (var waiting in _holders.Values.Where(h => h.Waiters.Count > 0))
            {
                _waiting.Enqueue((waiting, waiting.Version), (waiting.Held, _order++));
            }
        }
    }

    private Holder HolderOf(string tenantId)
    {
        if (!_holders.TryGetValue(tenantId, out var holder))
        {
            holder = new Holder();
            _holders.Add(tenantId, holder);
        }

        return holder;
    }

    private sealed class Holder
    {
        public int Held;
        public int Version;
        public readonly Queue<TaskCompletionSource> Waiters = new();
    }
}
