using System.Diagnostics;

namespace Webhooks.Observability;

/// <summary>
/// The engine's traces: an activity for each publish and for each delivery attempt. The W3C <c>traceparent</c> travels
/// with the event through Orleans' <see cref="RequestContext"/>, across the stream, and on to the receiver as a header.
/// </summary>
public static class WebhookTracing
{
    /// <summary>The name of the engine's <see cref="ActivitySource"/>.</summary>
    public const string SourceName = "Webhooks.Orleans";

    /// <summary>The HTTP header that carries the W3C trace context to the receiver.</summary>
    public const string TraceParent = "traceparent";

    /// <summary>
    /// The <see cref="RequestContext"/> key that carries the publish's trace context to the tenant grain. Not Orleans'
    /// own <c>traceparent</c> key, which each grain call along the way, the stream's pulling agent included, rewrites.
    /// </summary>
    public const string EventTraceParentKey = "webhooks.traceparent";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts the publish activity and puts the trace context where the tenant grain will find it.</summary>
    internal static Activity? StartPublish(WebhookEvent webhookEvent)
    {
        var activity = Source.StartActivity("webhooks.publish", ActivityKind.Producer);
        activity?.SetTag("webhooks.tenant_id", webhookEvent.TenantId);
        activity?.SetTag("webhooks.event_id", webhookEvent.Id);
        activity?.SetTag("webhooks.event_name", webhookEvent.EventName);
        if ((activity ?? Activity.Current)?.Id is { } traceParent)
        {
            RequestContext.Set(EventTraceParentKey, traceParent);
        }

        return activity;
    }

    /// <summary>Ends a publish: the trace context must not leak into the caller's later, unrelated calls.</summary>
    internal static void EndPublish(Activity? activity, Exception? error)
    {
        RequestContext.Remove(EventTraceParentKey);
        if (activity is not null && error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
        }

        activity?.Dispose();
    }

    /// <summary>The trace context that came with the current grain call or stream event.</summary>
    public static string? IncomingTraceParent() => RequestContext.Get(EventTraceParentKey) as string;

    /// <summary>Starts a delivery attempt's activity as a child of the publish that the event came from.</summary>
    public static Activity? StartDelivery(WebhookEvent webhookEvent, string? traceParent, int attempt)
    {
        ActivityContext.TryParse(traceParent, null, out var parent);
        var activity = Source.StartActivity("webhooks.deliver", ActivityKind.Client, parent);
        activity?.SetTag("webhooks.tenant_id", webhookEvent.TenantId);
        activity?.SetTag("webhooks.event_id", webhookEvent.Id);
        activity?.SetTag("webhooks.event_name", webhookEvent.EventName);
        activity?.SetTag("webhooks.attempt", attempt);
        return activity;
    }
}
