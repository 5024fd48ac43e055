using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

public sealed class AttemptLogTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_log_keeps_the_newest_attempts_up_to_its_capacity_and_gives_them_newest_first()
    {
        var log = new AttemptLog(capacity: 5);
        for (var i = 1; i <= 12; i++)
        {
            log.Add(Attempt($"evt-{i}", i));
            Assert.Equal(Math.Min(i, 5), log.Count);
        }

        Assert.Equal(["evt-12", "evt-11", "evt-10", "evt-9", "evt-8"], log.Newest(100).Select(a => a.EventId));
        Assert.Equal(["evt-12", "evt-11"], log.Newest(2).Select(a => a.EventId));
        Assert.Empty(log.Newest(0));
        Assert.Empty(log.Newest(-1));
        Assert.Equal(["evt-8", "evt-9", "evt-10", "evt-11", "evt-12"], log.ToList().Select(a => a.EventId));
    }

    [Fact]
    public void Every_field_reads_back_as_it_was_recorded()
    {
        var failed = new DeliveryAttempt("evt-failed", WebhookEventNames.BillingGenerated, 3, Start.AddMinutes(1), 500, TimeSpan.FromMilliseconds(42), "http_error", "HTTP 500 Internal Server Error", "{\"error\":\"down\"}");
        var timedOut = new DeliveryAttempt("evt-timeout", "custom.name", 1, new DateTimeOffset(2026, 1, 5, 11, 0, 0, TimeSpan.FromHours(2)), null, TimeSpan.FromSeconds(5), "timeout", "no response within 00:00:05", null);
        var log = new AttemptLog(capacity: 3);
        log.Add(failed);
        log.Add(timedOut);

        Assert.Equal([timedOut, failed], log.Newest(3));
        Assert.Equal(timedOut.At.Offset, log.Newest(1)[0].At.Offset);
    }

    [Theory]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    [InlineData("3F2504E0-4F89-11D3-9A0C-0305E82C3301")]
    [InlineData("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}")]
    [InlineData("3f2504e04f8911d39a0c0305e82c3301")]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c330z")]
    [InlineData("evt_0001")]
    public void An_event_id_reads_back_exactly_whether_or_not_it_is_a_guid(string id)
    {
        var log = new AttemptLog(capacity: 2);
        log.Add(Attempt(id, 1));

        Assert.Equal(id, Assert.Single(log.Newest(1)).EventId);
    }

    [Fact]
    public void A_log_read_from_storage_keeps_the_newest_of_what_was_stored()
    {
        var stored = Enumerable.Range(1, 6).Select(i => Attempt($"evt-{i}", i)).ToList();

        var log = AttemptLog.From(stored, capacity: 4);
        log.Add(Attempt("evt-7", 7));

        Assert.Equal(stored.Skip(3).Append(Attempt("evt-7", 7)), log.ToList());
    }

    [Fact]
    public void A_log_of_no_capacity_keeps_nothing()
    {
        var log = new AttemptLog(capacity: 0);
        log.Add(Attempt("evt-1", 1));

        Assert.Equal(0, log.Count);
        Assert.Empty(log.Newest(10));
        Assert.Empty(log.ToList());
    }

    private static DeliveryAttempt Attempt(string id, int second) =>
        new(id, WebhookEventNames.UsageRecorded, 1, Start.AddSeconds(second), 200, TimeSpan.FromMilliseconds(second), "delivered", null, null);
}
