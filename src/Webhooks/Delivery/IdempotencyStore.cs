using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Webhooks.Configuration;

namespace Webhooks.Delivery;

/// <summary>Remembers, for the idempotency window, which event ids each tenant has accepted.</summary>
internal interface IIdempotencyStore
{
    ValueTask<bool> ContainsAsync(string tenantId, string eventId);

    ValueTask AddAsync(string tenantId, string eventId);
}

/// <summary>
/// Ids kept in this silo's memory, bounded by <c>idempotency.max_keys</c>: the oldest are forgotten first. Survives
/// grain deactivation but not a silo restart, like the rest of memory mode.
/// </summary>
internal sealed class MemoryIdempotencyStore(IOptions<IdempotencyOptions> options, TimeProvider timeProvider) : IIdempotencyStore
{
    private readonly ConcurrentDictionary<(string Tenant, string Id), long> _expiries = new();
    private readonly ConcurrentQueue<(string Tenant, string Id, long ExpiresAt)> _order = new();
    private readonly IdempotencyOptions _options = options.Value;

    public ValueTask<bool> ContainsAsync(string tenantId, string eventId) =>
        ValueTask.FromResult(_expiries.TryGetValue((tenantId, eventId), out var expiresAt) && expiresAt > Now);

    public ValueTask AddAsync(string tenantId, string eventId)
    {
        if (_options.Window <= TimeSpan.Zero || _options.MaxKeys == 0)
        {
            return ValueTask.CompletedTask;
        }

        var expiresAt = Now + _options.Window.Ticks;
        _expiries[(tenantId, eventId)] = expiresAt;
        _order.Enqueue((tenantId, eventId, expiresAt));
        Trim();
        return ValueTask.CompletedTask;
    }

    private long Now => timeProvider.GetUtcNow().UtcTicks;

    private void Trim()
    {
        var now = Now;
        while (_order.TryPeek(out var oldest) && (oldest.ExpiresAt <= now || _order.Count > _options.MaxKeys) && _order.TryDequeue(out oldest))
        {
            // A later add of the same id pushed its expiry on; only the entry's own expiry removes it.
            _expiries.TryRemove(KeyValuePair.Create((oldest.Tenant, oldest.Id), oldest.ExpiresAt));
        }
    }
}

/// <summary>Ids kept in Redis with the window as their time to live, shared by every silo and surviving restarts.</summary>
internal sealed class RedisIdempotencyStore(RedisConnection redis, IOptions<IdempotencyOptions> options) : IIdempotencyStore
{
    private readonly IdempotencyOptions _options = options.Value;

    public async ValueTask<bool> ContainsAsync(string tenantId, string eventId)
    {
        var database = await redis.GetDatabaseAsync();
        return await database.KeyExistsAsync(Key(tenantId, eventId));
    }

    public async ValueTask AddAsync(string tenantId, string eventId)
    {
        if (_options.Window <= TimeSpan.Zero)
        {
            return;
        }

        var database = await redis.GetDatabaseAsync();
        await database.StringSetAsync(Key(tenantId, eventId), RedisValue.EmptyString, _options.Window);
    }

    private static RedisKey Key(string tenantId, string eventId) => $"webhooks:idempotency:{tenantId.Length}:{tenantId}:{eventId}";
}

/// <summary>The engine's own Redis connection, opened on first use.</summary>
internal sealed class RedisConnection(IOptions<StorageOptions> options) : IAsyncDisposable
{
    // Connects in the background and reconnects by itself, so that an outage does not poison the connection for good.
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection = new(() =>
    {
        var configuration = ConfigurationOptions.Parse(options.Value.Redis);
        configuration.AbortOnConnectFail = false;
        return ConnectionMultiplexer.ConnectAsync(configuration);
    });

    public async Task<IDatabase> GetDatabaseAsync() => (await _connection.Value).GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await (await _connection.Value).DisposeAsync();
        }
    }
}
