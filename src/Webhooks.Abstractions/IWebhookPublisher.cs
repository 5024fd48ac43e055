namespace Webhooks;

/// <summary>
/// The gateway through which host applications publish events. It validates an event, assigns its id and timestamp,
/// and hands it to the tenant's stream; the caller never needs to know where the tenant's grain lives.
/// </summary>
public interface IWebhookPublisher
{
    /// <summary>Publishes <paramref name="webhookEvent"/> and returns its id once it is accepted.</summary>
    /// <exception cref="WebhookValidationException">The event is malformed; nothing was accepted.</exception>
    /// <exception cref="WebhookOverflowException">A bound was hit and the wait for room ran out; nothing was accepted.</exception>
    Task<string> PublishAsync(WebhookEvent webhookEvent, CancellationToken cancellationToken = default);
}
