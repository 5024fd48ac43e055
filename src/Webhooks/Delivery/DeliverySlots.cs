using Microsoft.Extensions.Options;
using Webhooks.Configuration;

namespace Webhooks.Delivery;

/// <summary>
/// The deliveries this silo may have in flight at once, across all its tenants (<c>delivery.max_in_flight</c>). Without
/// it, many tenants each at their own limit would open more connections than the machine can serve, and every delivery
/// would slow down together. Waiters are served in arrival order.
/// </summary>
internal sealed class DeliverySlots(IOptions<DeliveryOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxInFlight, options.Value.MaxInFlight);

    public int Available => _slots.CurrentCount;

    public Task WaitAsync() => _slots.WaitAsync();

    public void Release() => _slots.Release();

    public void Dispose() => _slots.Dispose();
}
