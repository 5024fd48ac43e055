using Microsoft.Extensions.DependencyInjection;

namespace Webhooks.Payloads;

/// <summary>Registers host-provided payload builders.</summary>
public static class PayloadServiceCollectionExtensions
{
    /// <summary>
    /// Uses <typeparamref name="TBuilder"/> for its event type instead of the default builder. Register it in the silo's
    /// services; the last registration for an event type wins.
    /// </summary>
    public static IServiceCollection AddWebhookPayloadBuilder<TBuilder>(this IServiceCollection services)
        where TBuilder : class, IWebhookPayloadBuilder
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddSingleton<IWebhookPayloadBuilder, TBuilder>();
    }

    /// <summary>Uses <paramref name="builder"/> for its event type instead of the default builder.</summary>
    public static IServiceCollection AddWebhookPayloadBuilder(this IServiceCollection services, IWebhookPayloadBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddSingleton(builder);
    }
}
