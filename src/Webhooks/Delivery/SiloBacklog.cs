using Microsoft.Extensions.Options;
using Webhooks.Configuration;

namespace Webhooks.Delivery;

/// <summary>
/// The events all tenant grains of this silo hold (undelivered, or promised to a gateway), against
/// <c>delivery.max_pending</c>. Each tenant has its own bound too; this one keeps many tenants together from taking in
/// more than the silo can deliver, which would starve deliveries of the CPU they need and grow memory without limit.
/// </summary>
internal sealed class SiloBacklog(IOptions<DeliveryOptions> options)
{
    private readonly int _limit = options.Value.MaxPending;
    private long _held;

    public long Held => Interlocked.Read(ref _held);

    /// <summary>How many more events the silo may take.</summary>
    public int Room => (int)Math.Max(0, _limit - Interlocked.Read(ref _held));

    public void Change(int delta)
    {
        if (delta != 0)
        {
            Interlocked.Add(ref _held, delta);
        }
    }
}
