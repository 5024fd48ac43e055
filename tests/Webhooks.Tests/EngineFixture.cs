using System.Net;

namespace Webhooks.Tests;

/// <summary>
/// One receiver and one two-silo cluster shared by the engine tests. Each test uses tenants of its own, so counts
/// never mix between tests.
/// </summary>
public sealed class EngineFixture : IAsyncLifetime
{
    public static readonly IReadOnlyDictionary<string, string> AcmeHeaders = new Dictionary<string, string>
    {
        ["X-Api-Key"] = "key-acme-123",
        ["X-Request-Source"] = "billing",
    };

    /// <summary>A failed delivery is tried once more, a tenth of a second later, then kept as failed.</summary>
    public static readonly string[] OneQuickRetry = ["00:00:00.100"];

    /// <summary>A failure answer far longer than <c>delivery.response_excerpt_bytes</c> (512 by default).</summary>
    public static readonly string VerboseBody = "error: " + string.Concat(Enumerable.Range(0, 400).Select(i => $"{i:D4}."));

    public WebhookReceiver Receiver { get; private set; } = null!;

    public WebhookCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        Receiver.RespondWith("failing", HttpStatusCode.InternalServerError);
        Receiver.RedirectTo("redirecting", "redirect-target");
        Receiver.RespondWith("verbose", HttpStatusCode.InternalServerError, VerboseBody);
        Receiver.Hang("hang");
        Receiver.StallBody("stalled-gone", HttpStatusCode.Gone);

        var tenants = new TenantsYaml()
            .Tenant("acme", Receiver.EndpointFor("acme"), AcmeHeaders)
            .Tenant("types", Receiver.EndpointFor("types"))
            .Tenant("invalid", Receiver.EndpointFor("invalid"))
            .Tenant("excluder", Receiver.EndpointFor("excluder"), excluded: [WebhookEventNames.UsageRecorded, WebhookEventNames.PriceDeleted])
            .Tenant("disabled", Receiver.EndpointFor("disabled"), enabled: false)
            .Tenant("direct", Receiver.EndpointFor("direct"))
            .Tenant("external", Receiver.EndpointFor("external"))
            .Tenant("cohosted", Receiver.EndpointFor("cohosted"))
            .Tenant("failing", Receiver.EndpointFor("failing"), retrySchedule: OneQuickRetry)
            .Tenant("redirecting", Receiver.EndpointFor("redirecting"), retrySchedule: OneQuickRetry)
            .Tenant("redirect-target", Receiver.EndpointFor("redirect-target"))
            .Tenant("verbose", Receiver.EndpointFor("verbose"), retrySchedule: OneQuickRetry)
            .Tenant("refused", $"http://127.0.0.1:{FreePorts.Next()}/hooks/refused", retrySchedule: OneQuickRetry)
            .Tenant("hang", Receiver.EndpointFor("hang"), retrySchedule: OneQuickRetry)
            .Tenant("stalled-gone", Receiver.EndpointFor("stalled-gone"))
            .Tenant("healthy", Receiver.EndpointFor("healthy"));
        Cluster = await WebhookCluster.StartAsync(tenants, silos: 2);
    }

    public async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class EngineCollection : ICollectionFixture<EngineFixture>
{
    public const string Name = "engine";
}
