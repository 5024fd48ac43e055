using System.Collections.Concurrent;
using Orleans.Storage;
using Webhooks.Delivery;
using Webhooks.Configuration;

namespace Webhooks.Tests;

/// <summary>With durable storage, an event is acknowledged only once stored, and delivered only once stored.</summary>
public sealed class StorageFailureTests
{
    [Fact]
    public async Task A_publish_whose_write_fails_is_refused_and_not_delivered_so_that_its_retry_is_delivered_once()
    {
        var storage = new FailingStorage { FailWhenStoring = "evt-once" };
        await using var stored = await OnRedisAsync(silo => silo.Services.AddKeyedSingleton<IGrainStorage>(StorageOptions.GrainStorageName, storage));
        var (receiver, grain) = (stored.Receiver, stored.Grain);
        var once = WebhookEvent.Create("stored", WebhookEventNames.PriceUpdated, new { price_id = "p1" }) with { Id = "evt-once" };

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => grain.Publish(once));
        Assert.Contains(FailingStorage.Failure, refused.ToString(), StringComparison.Ordinal);

        // An event published after it is delivered, and the grain settles: the refused event was not sent meanwhile.
        await grain.Publish(once with { Id = "evt-later" });
        await receiver.WaitUntilAsync(() => receiver.SuccessesFor("stored"), s => s.ContainsKey("evt-later"), "the later event");
        await Eventually.Until(() => grain.GetStats(), s => s.InFlight == 0 && s.Buffered == 0, "the grain to settle");
        Assert.False(receiver.SuccessesFor("stored").ContainsKey("evt-once"));

        // The publisher's retry is accepted and delivered, once.
        Assert.Equal("evt-once", await grain.Publish(once));
        await receiver.WaitUntilAsync(() => receiver.SuccessesFor("stored"), s => s.ContainsKey("evt-once"), "the retried event");
        var stats = await Eventually.Until(() => grain.GetStats(), s => s.InFlight == 0 && s.Buffered == 0 && s.Delivered == 2, "both events to be delivered");
        Assert.Equal(1, receiver.SuccessesFor("stored")["evt-once"]);
        Assert.Equal(2, stats.Received);
        Assert.Equal(2, receiver.RequestsFor("stored").Count);
    }

    [Fact]
    public async Task A_publish_to_a_disabled_endpoint_whose_write_fails_keeps_no_failed_copy()
    {
        var storage = new FailingStorage();
        await using var stored = await OnRedisAsync(silo => silo.Services.AddKeyedSingleton<IGrainStorage>(StorageOptions.GrainStorageName, storage));
        var (receiver, grain) = (stored.Receiver, stored.Grain);
        receiver.RespondWith("stored", System.Net.HttpStatusCode.Gone);
        var gone = await grain.Publish(WebhookEvent.Create("stored", WebhookEventNames.PriceUpdated, new { price_id = "p0" }));
        await Eventually.Until(() => grain.GetEndpointStatus(), s => !s.Enabled, "the endpoint to be disabled by the 410");

        // Published while disabled, the event is kept failed; its write fails, so the publish is refused.
        storage.FailWhenStoring = "evt-kept";
        var kept = WebhookEvent.Create("stored", WebhookEventNames.PriceUpdated, new { price_id = "p1" }) with { Id = "evt-kept" };
        await Assert.ThrowsAnyAsync<Exception>(() => grain.Publish(kept));
        Assert.Equal([gone], (await grain.GetFailed()).Select(f => f.Event.Id));

        // The publisher's retry keeps one copy.
        await grain.Publish(kept);
        Assert.Equal([gone, "evt-kept"], (await grain.GetFailed()).Select(f => f.Event.Id));
        var stats = await grain.GetStats();
        Assert.Equal(2, stats.Received);
        Assert.Equal(2, stats.Failed);
    }

    [Fact]
    public async Task Events_stored_as_out_on_an_endpoint_since_disabled_resume_as_failed()
    {
        // Stored while two deliveries were out, just as the endpoint was disabled, before their outcomes came.
        await using var receiver = await WebhookReceiver.StartAsync();
        var stored = new TenantDeliveryState();
        stored.Endpoint.Disable("the endpoint answered 410 Gone", DateTimeOffset.UtcNow);
        stored.Pending.Add(new PendingDelivery { Event = WebhookEvent.Create("resumed", WebhookEventNames.PriceUpdated, new { price_id = "p1" }) with { Id = "evt-out-1" }, Attempts = 1 });
        stored.Pending.Add(new PendingDelivery { Event = WebhookEvent.Create("resumed", WebhookEventNames.PriceUpdated, new { price_id = "p2" }) with { Id = "evt-out-2" }, Attempts = 1 });
        await using var cluster = await WebhookCluster.StartAsync(
            new TenantsYaml().Tenant("resumed", receiver.EndpointFor("resumed")),
            configureSilo: silo => silo.Services.AddKeyedSingleton<IGrainStorage>(StorageOptions.GrainStorageName, new FailingStorage { Stored = stored }));
        var grain = cluster.Tenant("resumed");

        var failed = await grain.GetFailed();

        Assert.Equal(["evt-out-1", "evt-out-2"], failed.Select(f => f.Event.Id));
        Assert.All(failed, f => Assert.Equal(FailureReasons.EndpointDisabled, f.Reason));
        var stats = await grain.GetStats();
        Assert.Equal(0, stats.Buffered);
        Assert.Equal(0, stats.Retrying);
        Assert.Equal(0, stats.InFlight);
        Assert.Empty(receiver.RequestsFor("resumed"));
    }

    [Fact]
    public async Task A_stored_event_whose_id_cannot_be_recorded_is_still_acknowledged_and_delivered_once()
    {
        var idempotency = new FirstRecordFailsIdempotency();
        await using var stored = await OnRedisAsync(silo => silo.Services.AddSingleton<IIdempotencyStore>(idempotency));
        var (receiver, grain) = (stored.Receiver, stored.Grain);

        // Refusing it would have the publisher send it again after its delivery.
        var id = await grain.Publish(WebhookEvent.Create("stored", WebhookEventNames.PriceUpdated, new { price_id = "p1" }) with { Id = "evt-unrecorded" });

        Assert.Equal("evt-unrecorded", id);
        await receiver.WaitUntilAsync(() => receiver.SuccessesFor("stored"), s => s.ContainsKey(id), "the event");
        Assert.Equal(1, idempotency.Failures);
        Assert.Contains(stored.Cluster.SiloLogs, log => log.Level == LogLevel.Warning && log.Message.Contains("could not record its id", StringComparison.Ordinal) && log.Message.Contains(id, StringComparison.Ordinal));
    }

    // A receiver and a one-silo cluster on Redis storage, with one tenant, 'stored', and the test's own services.
    private static async Task<StoredTenant> OnRedisAsync(Action<ISiloBuilder> configureSilo)
    {
        var redis = await RedisServer.StartAsync();
        var receiver = await WebhookReceiver.StartAsync();
        var cluster = await WebhookCluster.StartAsync(
            new TenantsYaml().Tenant("stored", receiver.EndpointFor("stored")),
            $"storage:\n  provider: redis\n  redis: {redis.ConnectionString}\n",
            configureSilo: configureSilo);
        return new StoredTenant(redis, receiver, cluster);
    }

    private sealed record StoredTenant(RedisServer Redis, WebhookReceiver Receiver, WebhookCluster Cluster) : IAsyncDisposable
    {
        public ITenantWebhookGrain Grain => Cluster.Tenant("stored");

        public async ValueTask DisposeAsync()
        {
            await Cluster.DisposeAsync();
            await Receiver.DisposeAsync();
            await Redis.DisposeAsync();
        }
    }

    /// <summary>An idempotency store whose first record fails.</summary>
    private sealed class FirstRecordFailsIdempotency : IIdempotencyStore
    {
        private readonly ConcurrentDictionary<string, bool> _ids = new(StringComparer.Ordinal);
        private int _records;

        public int Failures { get; private set; }

        public ValueTask<bool> ContainsAsync(string tenantId, string eventId) => ValueTask.FromResult(_ids.ContainsKey($"{tenantId}/{eventId}"));

        public ValueTask AddAsync(string tenantId, string eventId)
        {
            if (Interlocked.Increment(ref _records) == 1)
            {
                Failures++;
                return ValueTask.FromException(new InvalidOperationException("the first record fails"));
            }

            _ids[$"{tenantId}/{eventId}"] = true;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Grain storage that fails the first write holding the event <see cref="FailWhenStoring"/>, pending or failed, and
    /// reads <see cref="Stored"/>. It stores nothing, which a test that never reactivates a grain does not need.
    /// </summary>
    private sealed class FailingStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
    {
        public const string Failure = "the write fails";

        private int _failed;

        public string? FailWhenStoring { get; set; }

        /// <summary>The delivery state every tenant grain reads when it activates.</summary>
        public TenantDeliveryState? Stored { get; init; }

        public void Participate(ISiloLifecycle observer)
        {
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
        {
            if (Stored is { } stored && grainState is IGrainState<TenantDeliveryState> delivery)
            {
                delivery.State = stored;
                delivery.RecordExists = true;
            }

            return Task.CompletedTask;
        }

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            grainState.State is TenantDeliveryState state
            && (state.Pending.Any(p => p.Event.Id == FailWhenStoring) || state.Failed.Any(f => f.Event.Id == FailWhenStoring))
            && Interlocked.Exchange(ref _failed, 1) == 0
                ? Task.FromException(new InvalidOperationException(Failure))
                : Task.CompletedTask;

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }
}
