using Orleans.Storage;
using Webhooks.Configuration;

namespace Webhooks.Tests;

/// <summary>With durable storage, an event is acknowledged only once stored, and delivered only once stored.</summary>
public sealed class StorageFailureTests
{
    [Fact]
    public async Task A_publish_whose_write_fails_is_refused_and_not_delivered_so_that_its_retry_is_delivered_once()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        var storage = new FirstWriteFailsStorage();
        var siloYaml = $"""
            storage:
              provider: redis
              redis: {redis.ConnectionString}
            """;
        await using var cluster = await WebhookCluster.StartAsync(
            new TenantsYaml().Tenant("stored", receiver.EndpointFor("stored")),
            siloYaml,
            configureSilo: silo => silo.Services.AddKeyedSingleton<IGrainStorage>(StorageOptions.GrainStorageName, storage));
        var grain = cluster.Tenant("stored");
        var once = WebhookEvent.Create("stored", WebhookEventNames.PriceUpdated, new { price_id = "p1" }) with { Id = "evt-once" };

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => grain.Publish(once));
        Assert.Contains(FirstWriteFailsStorage.Failure, refused.ToString(), StringComparison.Ordinal);

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

    /// <summary>Grain storage whose first write fails; it stores nothing, which a test that never reactivates does not need.</summary>
    private sealed class FirstWriteFailsStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
    {
        public const string Failure = "the first write fails";

        private int _writes;

        public void Participate(ISiloLifecycle observer)
        {
        }

        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            Interlocked.Increment(ref _writes) == 1 ? Task.FromException(new InvalidOperationException(Failure)) : Task.CompletedTask;

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => Task.CompletedTask;
    }
}
