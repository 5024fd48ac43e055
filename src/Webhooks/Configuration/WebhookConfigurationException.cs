namespace Webhooks.Configuration;

/// <summary>The configuration cannot be used; the message names the file, the tenant and the field.</summary>
public sealed class WebhookConfigurationException : Exception
{
    public WebhookConfigurationException(string message)
        : base(message)
    {
    }

    public WebhookConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
