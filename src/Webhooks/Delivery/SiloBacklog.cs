using Microsoft.Extensions.Options;
using Webhooks.Configuration;

namespace Webhooks.Delivery;

/// <summary>
/// The events all tenant grains of this silo hold (undelivered, or promised to a gateway), against
/// <c>delivery.max_pending</c>. Each tenant has its own bound too; this one keeps many tenants together from taking in
/// more than the silo can deliver, which would starve deliveries of the CPU they need and grow memory without limit.
/// </summary>
internal sealed class SiloBacklog(IOptions<DeliveryOptions> options, TimeProvider clock) : IDisposable
{
    /// <summary>How often a publish that waits for room looks again: room also frees on other tenants' grains.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly int _limit = options.Value.MaxPending;
    private readonly Lock _pollLock = new();
    private long _held;
    private TaskCompletionSource? _poll;
    private ITimer? _pollTimer;

    public long Held => Interlocked.Read(ref _held);

    /// <summary>How many more events the silo may take.</summary>
    public int Room => (int)Math.Max(0, _limit - Interlocked.Read(ref _held));

    /// <summary>
    /// Completes at the next look for room, at most <see cref="PollInterval"/> from now. Every publish of the silo that
    /// waits shares it: while the backlog is full, hundreds may wait, and a timer each made the runtime's timer queue
    /// walk them all every time one fired.
    /// </summary>
    public Task NextPoll
    {
        get
        {
            lock (_pollLock)
            {
                if (_poll is null)
                {
                    _poll = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    _pollTimer ??= clock.CreateTimer(static state => ((SiloBacklog)state!).Poll(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _pollTimer.Change(PollInterval, Timeout.InfiniteTimeSpan);
                }

                return _poll.Task;
            }
        }
    }

    public void Change(int delta)
    {
        if (delta != 0)
        {
            Interlocked.Add(ref _held, delta);
        }
    }

    public void Dispose()
    {
        lock (_pollLock)
        {
            _pollTimer?.Dispose();
            _pollTimer = null;
        }

        Poll();
    }

    private void Poll()
    {
        TaskCompletionSource? due;
        lock (_pollLock)
        {
            due = _poll;
            _poll = null;
        }

        due?.TrySetResult();
    }
}
