using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;
using Webhooks.Hosting;

namespace Webhooks.Tests;

/// <summary>
/// The engine works out its grain interfaces' Orleans types once, not on every <c>GetGrain</c>. The types stay those
/// Orleans names them by without the engine's provider, so that silos and clients of this and other versions agree.
/// </summary>
[Collection(EngineCollection.Name)]
public sealed class GrainInterfaceTypeTests(EngineFixture fixture)
{
    // The engine's client and its silo: each resolves grain interface types with its own providers.
    private IServiceProvider[] Hosts => [fixture.Cluster.Client.ServiceProvider, fixture.Cluster.Cluster.Silos[0].ServiceProvider];

    [Fact]
    public void The_engines_grain_interfaces_resolve_to_the_types_orleans_names_them_by_without_it()
    {
        foreach (var services in Hosts)
        {
            var resolver = services.GetRequiredService<GrainInterfaceTypeResolver>();
            var engine = Assert.Single(services.GetServices<IGrainInterfaceTypeProvider>().OfType<EngineGrainInterfaceTypes>());

            // What Orleans resolves when the engine's provider is not there.
            var orleansAlone = new GrainInterfaceTypeResolver(
                services.GetServices<IGrainInterfaceTypeProvider>().Where(provider => provider is not EngineGrainInterfaceTypes),
                services.GetRequiredService<TypeConverter>());

            Assert.True(engine.TryGetGrainInterfaceType(typeof(ITenantWebhookGrain), out var tenant));
            Assert.Equal("Webhooks.ITenantWebhookGrain", tenant.ToString());
            Assert.Equal(orleansAlone.GetGrainInterfaceType(typeof(ITenantWebhookGrain)), resolver.GetGrainInterfaceType(typeof(ITenantWebhookGrain)));

            Assert.True(engine.TryGetGrainInterfaceType(typeof(IPayloadBuilderGrain), out var builder));
            Assert.Equal("Webhooks.IPayloadBuilderGrain", builder.ToString());
            Assert.Equal(orleansAlone.GetGrainInterfaceType(typeof(IPayloadBuilderGrain)), resolver.GetGrainInterfaceType(typeof(IPayloadBuilderGrain)));

            // Other interfaces are left to Orleans.
            Assert.False(engine.TryGetGrainInterfaceType(typeof(IManagementGrain), out _));
        }
    }

    [Fact]
    public void Orleans_reads_an_interfaces_attributes_once_and_still_honours_them()
    {
        foreach (var services in Hosts)
        {
            // The cached provider stands where Orleans put its own, ahead of the engine's.
            var providers = services.GetServices<IGrainInterfaceTypeProvider>().ToList();
            Assert.DoesNotContain(providers, provider => provider is AttributeGrainInterfaceTypeProvider);
            var cached = Assert.Single(providers.OfType<CachedAttributeGrainInterfaceTypes>());
            Assert.True(providers.IndexOf(cached) < providers.FindIndex(provider => provider is EngineGrainInterfaceTypes));

            // An interface named by its attribute keeps that name, on the first resolution and on the cached ones.
            var resolver = services.GetRequiredService<GrainInterfaceTypeResolver>();
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal("webhooks-tests.renamed", resolver.GetGrainInterfaceType(typeof(IRenamed)).ToString());
                Assert.Equal("Webhooks.ITenantWebhookGrain", resolver.GetGrainInterfaceType(typeof(ITenantWebhookGrain)).ToString());
            }
        }
    }

    [Fact]
    public void The_cache_asks_the_attribute_provider_once_per_interface_and_keeps_both_kinds_of_answer()
    {
        var attributes = new CountingProvider(new AttributeGrainInterfaceTypeProvider(new ServiceCollection().BuildServiceProvider()));
        var cached = new CachedAttributeGrainInterfaceTypes(attributes);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(cached.TryGetGrainInterfaceType(typeof(IRenamed), out var renamed));
            Assert.Equal("webhooks-tests.renamed", renamed.ToString());
            Assert.False(cached.TryGetGrainInterfaceType(typeof(ITenantWebhookGrain), out var none));
            Assert.Equal(default, none);
        }

        Assert.Equal(2, attributes.Calls);
    }

    [GrainInterfaceType("webhooks-tests.renamed")]
    private interface IRenamed;

    private sealed class CountingProvider(IGrainInterfaceTypeProvider inner) : IGrainInterfaceTypeProvider
    {
        public int Calls { get; private set; }

        public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
        {
            Calls++;
            return inner.TryGetGrainInterfaceType(type, out grainInterfaceType);
        }
    }
}
