using System.Collections.Frozen;

namespace Webhooks.Payloads;

/// <summary>
/// Finds the builder for an event type: the host's own when one is registered (the last registration wins), otherwise
/// the default. The PRD's <c>PayloadBuilderFactory</c>.
/// </summary>
internal sealed class PayloadBuilderRegistry
{
    private readonly FrozenDictionary<string, IWebhookPayloadBuilder> _builders;

    public PayloadBuilderRegistry(IEnumerable<IWebhookPayloadBuilder> hostBuilders)
    {
        var builders = DefaultPayloadBuilders.All.ToDictionary(builder => builder.EventName, StringComparer.Ordinal);
        foreach (var builder in hostBuilders)
        {
            if (!WebhookEventNames.IsKnown(builder.EventName))
            {
                throw new InvalidOperationException(
                    $"Payload builder {builder.GetType().FullName} is registered for '{builder.EventName}', which is not a known event; expected one of {string.Join(", ", WebhookEventNames.All)}.");
            }

            builders[builder.EventName] = builder;
        }

        _builders = builders.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public IWebhookPayloadBuilder? Find(string eventName) => _builders.GetValueOrDefault(eventName);
}
