using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;

namespace Webhooks.Hosting;

/// <summary>
/// The grain interface types of the engine's grains, worked out once. Orleans works out an interface's type from its
/// name on every <c>GetGrain</c> call, formatting and parsing type names each time; a host that publishes with
/// <c>GetGrain&lt;ITenantWebhookGrain&gt;(tenant).Publish(evt)</c> would pay that per event.
/// </summary>
/// <remarks>
/// The values are Orleans' own, by its naming convention, so silos and clients without this provider agree with those
/// that have it. Orleans asks the providers registered before this one (its attribute provider) first.
/// </remarks>
internal sealed class EngineGrainInterfaceTypes(IServiceProvider services) : IGrainInterfaceTypeProvider
{
    private static readonly Type[] Interfaces = [typeof(ITenantWebhookGrain), typeof(IPayloadBuilderGrain)];

    private GrainInterfaceType[]? _types;

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        var index = Array.IndexOf(Interfaces, type);
        if (index < 0)
        {
            grainInterfaceType = default;
            return false;
        }

        // Resolved on first use: the resolver is built from the providers, this one included.
        _types ??= Array.ConvertAll(Interfaces, services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceTypeByConvention);
        grainInterfaceType = _types[index];
        return true;
    }
}
