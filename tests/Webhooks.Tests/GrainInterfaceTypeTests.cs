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
    [Fact]
    public void The_engines_grain_interfaces_resolve_to_the_types_orleans_names_them_by_without_it()
    {
        IServiceProvider[] hosts = [fixture.Cluster.Client.ServiceProvider, fixture.Cluster.Cluster.Silos[0].ServiceProvider];
        foreach (var services in hosts)
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
}
