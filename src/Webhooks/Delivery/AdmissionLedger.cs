namespace Webhooks.Delivery;

/// <summary>
/// The room a tenant grain has promised to gateways for events still on their way through the stream. Grants lapse
/// in the order they were made; an arriving event uses up the oldest.
/// </summary>
internal sealed class AdmissionLedger
{
    private readonly Queue<Grant> _grants = new();
    private int _outstanding;

    /// <summary>Credits granted and neither used nor lapsed by <paramref name="now"/>.</summary>
    public int Outstanding(long now)
    {
        Lapse(now);
        return _outstanding;
    }

    /// <summary>When the oldest grant still held at <paramref name="now"/> lapses, in UTC ticks; null when none is.</summary>
    public long? NextLapse(long now)
    {
        Lapse(now);
        return _grants.TryPeek(out var oldest) ? oldest.ExpiresAt : null;
    }

    public void Add(int credits, long expiresAt)
    {
        if (credits <= 0)
        {
            return;
        }

        _grants.Enqueue(new Grant { Remaining = credits, ExpiresAt = expiresAt });
        _outstanding += credits;
    }

    /// <summary>Records the arrival of an event published under a grant. Returns false when no grant was waiting for it.</summary>
    public bool Use(long now)
    {
        Lapse(now);
        if (!_grants.TryPeek(out var oldest))
        {
            return false;
        }

        _outstanding--;
        if (--oldest.Remaining == 0)
        {
            _grants.Dequeue();
        }

        return true;
    }

    private void Lapse(long now)
    {
        while (_grants.TryPeek(out var oldest) && oldest.ExpiresAt <= now)
        {
            _outstanding -= oldest.Remaining;
            _grants.Dequeue();
        }
    }

    private sealed class Grant
    {
        public int Remaining { get; set; }

        public long ExpiresAt { get; init; }
    }
}
