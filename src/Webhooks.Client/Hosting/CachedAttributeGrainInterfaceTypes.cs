using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Webhooks.Hosting;

/// <summary>
/// Orleans' attribute provider of grain interface types, with each answer kept. Orleans asks it on every
/// <c>GetGrain&lt;T&gt;</c> call, and it reads the interface's custom attributes by reflection each time, building a new
/// instance of every attribute: a host that publishes with <c>GetGrain&lt;ITenantWebhookGrain&gt;(tenant).Publish(evt)</c>
/// pays that per event. An interface's attributes never change while the process runs, so the first answer is the
/// answer.
/// </summary>
/// <remarks>
/// It takes the place of Orleans' own registration, so that the providers keep their order. It answers for every grain
/// interface the host resolves, not only the engine's, exactly as the provider it wraps would.
/// </remarks>
internal sealed class CachedAttributeGrainInterfaceTypes(IGrainInterfaceTypeProvider attributes) : IGrainInterfaceTypeProvider
{
    private readonly ConcurrentDictionary<Type, (bool Found, GrainInterfaceType Type)> _answers = new();

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        if (!_answers.TryGetValue(type, out var answer))
        {
            var found = attributes.TryGetGrainInterfaceType(type, out var resolved);
            answer = _answers.GetOrAdd(type, (found, resolved));
        }

        grainInterfaceType = answer.Type;
        return answer.Found;
    }

    /// <summary>Puts the cached provider where Orleans registered its attribute provider; does nothing if it is not there.</summary>
    public static void Replace(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            if (services[i].ServiceType == typeof(IGrainInterfaceTypeProvider)
                && services[i].ImplementationType == typeof(AttributeGrainInterfaceTypeProvider))
            {
                services[i] = ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider>(
                    provider => new CachedAttributeGrainInterfaceTypes(new AttributeGrainInterfaceTypeProvider(provider)));
            }
        }
    }
}
