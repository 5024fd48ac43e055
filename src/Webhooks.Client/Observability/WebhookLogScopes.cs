using Microsoft.Extensions.Logging;

namespace Webhooks.Observability;

/// <summary>The log scopes the engine opens, the same at the gateway and in the tenant grains.</summary>
internal static class WebhookLogScopes
{
    /// <summary>The tenant and the event a log line is about, for sinks that index scopes rather than messages.</summary>
    public static readonly Func<ILogger, string, string, IDisposable?> Event =
        LoggerMessage.DefineScope<string, string>("Tenant {TenantId} event {EventId}");
}
