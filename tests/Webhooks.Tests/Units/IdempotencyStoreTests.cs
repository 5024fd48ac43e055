using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Webhooks.Configuration;
using Webhooks.Delivery;

namespace Webhooks.Tests.Units;

/// <summary>The memory idempotency store: per tenant, for the window, the newest <c>max_keys</c> ids.</summary>
public sealed class IdempotencyStoreTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));

    private MemoryIdempotencyStore Store(int maxKeys = 100_000, TimeSpan? window = null) =>
        new(Options.Create(new IdempotencyOptions { MaxKeys = maxKeys, Window = window ?? TimeSpan.FromMinutes(10) }), _clock);

    [Fact]
    public async Task An_id_is_remembered_for_its_tenant_only()
    {
        var store = Store();
        await store.AddAsync("acme", "evt-1");

        Assert.True(await store.ContainsAsync("acme", "evt-1"));
        Assert.False(await store.ContainsAsync("globex", "evt-1"));
        Assert.False(await store.ContainsAsync("acme", "evt-2"));
    }

    [Theory]
    [InlineData("a:b", "c", "a", "b:c")]
    [InlineData("ab", "c", "a", "bc")]
    [InlineData("", "ab", "a", "b")]
    public async Task Tenant_and_id_are_kept_apart(string tenant, string id, string otherTenant, string otherId)
    {
        var store = Store();
        await store.AddAsync(tenant, id);

        Assert.False(await store.ContainsAsync(otherTenant, otherId));
    }

    [Fact]
    public async Task Long_ids_are_remembered_whole()
    {
        var store = Store();
        var id = new string('x', 700) + "1";
        await store.AddAsync("acme", id);

        Assert.True(await store.ContainsAsync("acme", new string('x', 700) + "1"));
        Assert.False(await store.ContainsAsync("acme", new string('x', 700) + "2"));
    }

    [Fact]
    public async Task An_id_is_forgotten_once_its_window_has_passed()
    {
        var store = Store();
        await store.AddAsync("acme", "evt-1");

        _clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromTicks(1));
        Assert.True(await store.ContainsAsync("acme", "evt-1"));
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.False(await store.ContainsAsync("acme", "evt-1"));

        // Expired ids are let go of as new ones come.
        await store.AddAsync("acme", "evt-2");
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task An_id_added_again_is_kept_for_a_window_from_then()
    {
        var store = Store();
        await store.AddAsync("acme", "evt-1");
        _clock.Advance(TimeSpan.FromMinutes(6));
        await store.AddAsync("acme", "evt-1");

        // Past the first window: the first entry lapses, but not the id.
        _clock.Advance(TimeSpan.FromMinutes(6));
        await store.AddAsync("acme", "evt-2");
        Assert.True(await store.ContainsAsync("acme", "evt-1"));

        _clock.Advance(TimeSpan.FromMinutes(4));
        Assert.False(await store.ContainsAsync("acme", "evt-1"));
    }

    [Fact]
    public async Task Past_max_keys_the_oldest_ids_are_forgotten_first()
    {
        var store = Store(maxKeys: 3);
        for (var i = 1; i <= 5; i++)
        {
            await store.AddAsync("acme", $"evt-{i}");
        }

        Assert.Equal(3, store.Count);
        var remembered = await Task.WhenAll(Enumerable.Range(1, 5).Select(i => store.ContainsAsync("acme", $"evt-{i}").AsTask()));
        Assert.Equal([false, false, true, true, true], remembered);
    }

    [Fact]
    public async Task A_window_of_zero_or_no_keys_remembers_nothing()
    {
        var none = Store(maxKeys: 0);
        await none.AddAsync("acme", "evt-1");
        Assert.False(await none.ContainsAsync("acme", "evt-1"));

        var instant = Store(window: TimeSpan.Zero);
        await instant.AddAsync("acme", "evt-1");
        Assert.False(await instant.ContainsAsync("acme", "evt-1"));
    }

    [Fact]
    public async Task A_remembered_id_does_not_keep_the_event_s_strings_alive()
    {
        var store = Store();
        var id = await AddFreshIdAsync(store);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(id.TryGetTarget(out _));
        Assert.True(await store.ContainsAsync("acme", "evt-" + 42));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference<string>> AddFreshIdAsync(MemoryIdempotencyStore store)
    {
        var id = string.Concat("evt-", 42.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await store.AddAsync("acme", id);
        return new WeakReference<string>(id);
    }
}
