namespace Webhooks.Delivery;

/// <summary>A tenant's newest delivery attempts, kept as plain values in a ring that overwrites the oldest.</summary>
/// <remarks>
/// A busy tenant records an attempt per delivery and keeps each for about as long as the collector waits between
/// young-generation collections, so records kept as objects (an attempt and its event id string) nearly all survive one
/// collection and are copied, then die soon after. With 100 busy tenants that copying made each collection pause several
/// times longer than with no history. Here an attempt is a slot in an array; an event id in the engine's own format (a
/// lowercase GUID) is kept as its 16 bytes, and event names and outcomes are the engine's shared strings.
/// </remarks>
internal sealed class AttemptLog(int capacity)
{
    private Entry[] _entries = [];

    // The oldest attempt's slot, once the ring is full; until then the oldest is at 0.
    private int _oldest;
    private int _count;

    public int Count => _count;

    /// <summary>A log holding the newest <paramref name="capacity"/> of <paramref name="attempts"/> (oldest first).</summary>
    public static AttemptLog From(IReadOnlyList<DeliveryAttempt> attempts, int capacity)
    {
        var log = new AttemptLog(capacity);
        for (var i = Math.Max(0, attempts.Count - capacity); i < attempts.Count; i++)
        {
            log.Add(attempts[i]);
        }

        return log;
    }

    public void Add(DeliveryAttempt attempt)
    {
        if (capacity <= 0)
        {
            return;
        }

        if (_count < capacity)
        {
            if (_count == _entries.Length)
            {
                // Doubles from one slot, so a tenant with a few attempts holds a few slots.
                Array.Resize(ref _entries, Math.Min(capacity, Math.Max(1, _entries.Length * 2)));
            }

            _entries[_count++] = Entry.Of(attempt);
            return;
        }

        _entries[_oldest] = Entry.Of(attempt);
        _oldest = (_oldest + 1) % capacity;
    }

    /// <summary>Up to <paramref name="limit"/> attempts, newest first.</summary>
    public DeliveryAttempt[] Newest(int limit)
    {
        var result = new DeliveryAttempt[Math.Clamp(limit, 0, _count)];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = At(_count - 1 - i);
        }

        return result;
    }

    /// <summary>Every attempt, oldest first, as stored.</summary>
    public List<DeliveryAttempt> ToList()
    {
        var result = new List<DeliveryAttempt>(_count);
        for (var i = 0; i < _count; i++)
        {
            result.Add(At(i));
        }

        return result;
    }

    // The attempt at a position counted from the oldest.
    private DeliveryAttempt At(int position) => _entries[(_oldest + position) % _entries.Length].ToAttempt();

    private struct Entry
    {
        private Guid _id;
        private string? _idText;
        private string _eventName;
        private string _outcome;
        private string? _error;
        private string? _responseExcerpt;
        private DateTimeOffset _at;
        private TimeSpan _duration;
        private int _attempt;
        private int? _statusCode;

        public static Entry Of(DeliveryAttempt attempt)
        {
            var id = Guid.Empty;
            var packed = IsPackable(attempt.EventId) && Guid.TryParseExact(attempt.EventId, "D", out id);
            return new Entry
            {
                _id = id,
                _idText = packed ? null : attempt.EventId,
                _eventName = Shared(attempt.EventName),
                _outcome = Shared(attempt.Outcome),
                _error = attempt.Error,
                _responseExcerpt = attempt.ResponseExcerpt,
                _at = attempt.At,
                _duration = attempt.Duration,
                _attempt = attempt.Attempt,
                _statusCode = attempt.StatusCode,
            };
        }

        public readonly DeliveryAttempt ToAttempt() =>
            new(_idText ?? _id.ToString("D"), _eventName, _attempt, _at, _statusCode, _duration, _outcome, _error, _responseExcerpt);

        // Only the form Guid.ToString("D") gives back, so that the id reads back exactly as it came.
        private static bool IsPackable(string id) => id.Length == 36 && !id.AsSpan().ContainsAnyInRange('A', 'Z');

        // The engine's own instance of a known name or outcome: one that came through the stream or from storage is a
        // copy, which the record would otherwise keep alive.
        private static string Shared(string value) => value switch
        {
            WebhookEventNames.PriceUpdated => WebhookEventNames.PriceUpdated,
            WebhookEventNames.PriceDeleted => WebhookEventNames.PriceDeleted,
            WebhookEventNames.UsageRecorded => WebhookEventNames.UsageRecorded,
            WebhookEventNames.BillingGenerated => WebhookEventNames.BillingGenerated,
            DeliveryOutcomes.Delivered => DeliveryOutcomes.Delivered,
            DeliveryOutcomes.HttpError => DeliveryOutcomes.HttpError,
            DeliveryOutcomes.Timeout => DeliveryOutcomes.Timeout,
            DeliveryOutcomes.ConnectionError => DeliveryOutcomes.ConnectionError,
            DeliveryOutcomes.Refused => DeliveryOutcomes.Refused,
            DeliveryOutcomes.Error => DeliveryOutcomes.Error,
            _ => value,
        };
    }
}
