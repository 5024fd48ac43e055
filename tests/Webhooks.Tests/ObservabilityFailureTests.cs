namespace Webhooks.Tests;

/// <summary>
/// A host's logging that throws as a delivery starts costs that attempt, never the event: the attempt is recorded as an
/// error and retried, and the event does not stay in flight.
/// </summary>
public sealed class ObservabilityFailureTests
{
    private const string SiloYaml = """
        delivery:
          timeout: 00:00:05
          retry_schedule: [00:00:01]
        """;

    [Fact]
    public async Task A_log_scope_that_throws_as_a_delivery_starts_fails_that_attempt_and_the_retry_delivers()
    {
        const string eventId = "evt_scope_breaks_once";
        var receiver = await WebhookReceiver.StartAsync();

        // The event's first scope is its acceptance by the tenant grain; the second opens its first delivery attempt.
        var scopes = new ScopeBreakingProvider(eventId, breakAt: 2);
        var cluster = await WebhookCluster.StartAsync(
            new TenantsYaml().Tenant("scoped", receiver.EndpointFor("scoped")),
            SiloYaml,
            configureSilo: silo => silo.Services.AddSingleton<ILoggerProvider>(scopes));
        try
        {
            var published = new WebhookEvent
            {
                Id = eventId,
                TenantId = "scoped",
                EventName = WebhookEventNames.PriceUpdated,
                Timestamp = new DateTimeOffset(2024, 3, 1, 9, 0, 0, TimeSpan.Zero),
                Payload = """{"price_id":"price_7","amount":500}""",
            };
            var tenant = cluster.Tenant("scoped");

            Assert.Equal(eventId, await tenant.Publish(published));

            var stats = await Eventually.Until(() => tenant.GetStats(), s => s.Delivered == 1, "the retry to deliver the event");
            Assert.True(scopes.Broken, "the scope of the first attempt did not throw");
            Assert.Equal(1, stats.Retries);
            Assert.Equal(0, stats.InFlight);
            Assert.Equal(0, stats.Buffered);
            Assert.Equal(0, stats.Failed);

            // Only the retry reached the endpoint, with the exact body.
            var request = Assert.Single(receiver.RequestsFor("scoped"));
            Assert.Equal(
                """{"id":"evt_scope_breaks_once","event_name":"price.updated","timestamp":"2024-03-01T09:00:00Z","tenant_id":"scoped","payload":{"price_id":"price_7","amount":500}}""",
                request.Body);

            // The failed attempt is in the history with what threw, and in the logs with the tenant and the event.
            var attempts = (await tenant.GetAttempts(10)).OrderBy(a => a.Attempt).ToArray();
            Assert.Equal(2, attempts.Length);
            Assert.Equal("error", attempts[0].Outcome);
            Assert.Null(attempts[0].StatusCode);
            Assert.Contains(ScopeBreakingProvider.Message, attempts[0].Error, StringComparison.Ordinal);
            Assert.Equal("delivered", attempts[1].Outcome);
            Assert.Equal(200, attempts[1].StatusCode);
            Assert.Contains(cluster.SiloLogs, log =>
                log.Level == LogLevel.Error
                && log.Exception?.ToString().Contains(ScopeBreakingProvider.Message, StringComparison.Ordinal) == true
                && log.Message.Contains("scoped", StringComparison.Ordinal)
                && log.Message.Contains(eventId, StringComparison.Ordinal));

            // Nothing was left holding a place: the next event goes out at once, on its first attempt.
            await tenant.Publish(WebhookEvent.Create("scoped", WebhookEventNames.PriceUpdated, new { price_id = "p" }));
            await receiver.WaitForAsync("scoped", 2);
            var after = await Eventually.Until(() => tenant.GetStats(), s => s.Delivered == 2, "the next event to be delivered");
            Assert.Equal(1, after.Retries);
            Assert.Equal(0, after.InFlight);
        }
        finally
        {
            await cluster.DisposeAsync();
            await receiver.DisposeAsync();
        }
    }

    /// <summary>Throws from the <paramref name="breakAt"/>-th log scope opened for one event, and only from that one.</summary>
    private sealed class ScopeBreakingProvider(string eventId, int breakAt) : ILoggerProvider
    {
        public const string Message = "the log sink refused the scope";

        private int _opened;
        private int _broken;

        public bool Broken => Volatile.Read(ref _broken) == 1;

        public ILogger CreateLogger(string categoryName) => new ScopeLogger(this);

        public void Dispose()
        {
        }

        private IDisposable? Open<TState>(TState state)
        {
            if (state?.ToString()?.Contains(eventId, StringComparison.Ordinal) == true && Interlocked.Increment(ref _opened) == breakAt)
            {
                Volatile.Write(ref _broken, 1);
                throw new InvalidOperationException(Message);
            }

            return null;
        }

        private sealed class ScopeLogger(ScopeBreakingProvider provider) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider.Open(state);

            public bool IsEnabled(LogLevel logLevel) => false;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
            }
        }
    }
}
