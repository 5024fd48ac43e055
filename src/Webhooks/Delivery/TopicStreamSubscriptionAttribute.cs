using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Metadata;
using Orleans.Streams;
using Webhooks.Configuration;

namespace Webhooks.Delivery;

/// <summary>
/// An implicit stream subscription to the namespace named by <c>webhook.topic</c>. The built-in attribute takes a
/// constant; this one reads the configured topic when the silo builds its grain manifest.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class TopicStreamSubscriptionAttribute : Attribute, IGrainBindingsProviderAttribute
{
    public IEnumerable<Dictionary<string, string?>> GetBindings(IServiceProvider services, Type grainClass, GrainType grainType)
    {
        var topic = services.GetRequiredService<IOptions<WebhookOptions>>().Value.Topic;
        var predicate = new RegexStreamNamespacePredicate($"^{Regex.Escape(topic)}$");
        yield return new Dictionary<string, string?>
        {
            [WellKnownGrainTypeProperties.BindingTypeKey] = WellKnownGrainTypeProperties.StreamBindingTypeValue,
            [WellKnownGrainTypeProperties.StreamBindingPatternKey] = predicate.PredicatePattern,
            [WellKnownGrainTypeProperties.StreamIdMapperKey] = null,
        };
    }
}
