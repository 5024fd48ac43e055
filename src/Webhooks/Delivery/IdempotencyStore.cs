using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
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
/// <remarks>
/// Each id is kept as a 128-bit hash of tenant and id, in arrays of plain values: an accepted event leaves no object
/// behind for its window. Objects that each live for the window (a node, the id string) would each be copied from one
/// heap generation to the next by the collector, and that copying made up most of the pauses of a busy silo.
/// </remarks>
internal sealed class MemoryIdempotencyStore(IOptions<IdempotencyOptions> options, TimeProvider timeProvider) : IIdempotencyStore
{
    // Ids longer than this (in characters, tenant and id together) are hashed from a rented buffer, not the stack.
    private const int StackChars = 512;

    // Seeded at random, so that ids whose hashes collide cannot be worked out ahead; at 128 bits an accidental collision
    // (which would filter an event as a duplicate) is negligible.
    private readonly long _seed = Random.Shared.NextInt64();
    private readonly Lock _lock = new();
    private readonly Dictionary<UInt128, long> _expiries = [];
    private readonly Queue<(UInt128 Key, long ExpiresAt)> _order = new();
    private readonly IdempotencyOptions _options = options.Value;

    public ValueTask<bool> ContainsAsync(string tenantId, string eventId)
    {
        var key = Key(tenantId, eventId);
        var now = Now;
        lock (_lock)
        {
            return ValueTask.FromResult(_expiries.TryGetValue(key, out var expiresAt) && expiresAt > now);
        }
    }

    public ValueTask AddAsync(string tenantId, string eventId)
    {
        if (_options.Window <= TimeSpan.Zero || _options.MaxKeys == 0)
        {
            return ValueTask.CompletedTask;
        }

        var key = Key(tenantId, eventId);
        var now = Now;
        var expiresAt = now + _options.Window.Ticks;
        lock (_lock)
        {
            _expiries[key] = expiresAt;
            _order.Enqueue((key, expiresAt));
            Trim(now);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>How many ids are remembered.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _expiries.Count;
            }
        }
    }

    private long Now => timeProvider.GetUtcNow().UtcTicks;

    private void Trim(long now)
    {
        while (_order.TryPeek(out var oldest) && (oldest.ExpiresAt <= now || _order.Count > _options.MaxKeys))
        {
            _order.Dequeue();

            // A later add of the same id pushed its expiry on; only the entry's own expiry removes it.
            if (_expiries.TryGetValue(oldest.Key, out var expiresAt) && expiresAt == oldest.ExpiresAt)
            {
                _expiries.Remove(oldest.Key);
            }
        }
    }

    // The tenant id's length goes first, so that ("a:b", "c") and ("a", "b:c") differ.
    private UInt128 Key(string tenantId, string eventId)
    {
        var length = 2 + tenantId.Length + eventId.Length;
        char[]? rented = null;
        var chars = length <= StackChars ? stackalloc char[length] : (rented = ArrayPool<char>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            chars[0] = (char)(tenantId.Length >> 16);
            chars[1] = (char)tenantId.Length;
            tenantId.CopyTo(chars[2..]);
            eventId.CopyTo(chars[(2 + tenantId.Length)..]);
            return XxHash128.HashToUInt128(MemoryMarshal.AsBytes(chars), _seed);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
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
