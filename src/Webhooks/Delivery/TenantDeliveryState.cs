namespace Webhooks.Delivery;

/// <summary>What a tenant grain stores: its undelivered events, its failed events and its endpoint's health.</summary>
[GenerateSerializer, Alias("webhooks.TenantDeliveryState")]
internal sealed class TenantDeliveryState
{
    /// <summary>Accepted events not yet delivered: waiting, in flight, or waiting for a retry.</summary>
    [Id(0)]
    public List<PendingDelivery> Pending { get; set; } = [];

    /// <summary>Events given up on, oldest first, kept for replay.</summary>
    [Id(1)]
    public List<FailedDelivery> Failed { get; set; } = [];

    [Id(2)]
    public EndpointHealth Endpoint { get; set; } = new();
}

/// <summary>An accepted event on its way to the endpoint.</summary>
[GenerateSerializer, Alias("webhooks.PendingDelivery")]
internal sealed class PendingDelivery
{
    [Id(0)]
    public required WebhookEvent Event { get; init; }

    /// <summary>Attempts made so far.</summary>
    [Id(1)]
    public int Attempts { get; set; }

    /// <summary>When the next attempt may start.</summary>
    [Id(2)]
    public DateTimeOffset DueAt { get; set; }

    [Id(3)]
    public int? LastStatusCode { get; set; }

    [Id(4)]
    public string? LastError { get; set; }

    /// <summary>The W3C trace context of the publish, so that every attempt joins its trace.</summary>
    [Id(5)]
    public string? TraceParent { get; init; }

    [NonSerialized]
    private bool _inFlight;

    [NonSerialized]
    private Task<BuiltPayloads>? _build;

    [NonSerialized]
    private int _buildIndex;

    /// <summary>Whether an attempt is out now. Not stored: an activation starts with nothing in flight.</summary>
    public bool InFlight
    {
        get => _inFlight;
        set => _inFlight = value;
    }

    /// <summary>Whether a build of the payload for the next attempt has started. Not stored.</summary>
    public bool HasBuild => _build is not null;

    /// <summary>The build that makes the payload for the next attempt, and this event's place in it.</summary>
    public (Task<BuiltPayloads> Build, int Index) Build => (_build ?? throw new InvalidOperationException("No payload build has started."), _buildIndex);

    /// <summary>Has the payload for the next attempt made by <paramref name="build"/>, at <paramref name="index"/>.</summary>
    public void BuildWith(Task<BuiltPayloads> build, int index)
    {
        _build = build;
        _buildIndex = index;
    }

    /// <summary>Forgets the payload once an attempt has used it: each attempt gets a payload of its own.</summary>
    public void ForgetBuild() => _build = null;
}

/// <summary>How the tenant's endpoint has been doing.</summary>
[GenerateSerializer, Alias("webhooks.EndpointHealth")]
internal sealed class EndpointHealth
{
    [Id(0)]
    public bool Disabled { get; set; }

    [Id(1)]
    public string? DisabledReason { get; set; }

    [Id(2)]
    public DateTimeOffset? DisabledAt { get; set; }

    /// <summary>When the current run of failed attempts began; null after a success.</summary>
    [Id(3)]
    public DateTimeOffset? FailingSince { get; set; }

    [Id(4)]
    public int ConsecutiveFailures { get; set; }

    public void Succeeded()
    {
        FailingSince = null;
        ConsecutiveFailures = 0;
    }

    public void Failed(DateTimeOffset now)
    {
        FailingSince ??= now;
        ConsecutiveFailures++;
    }

    public void Disable(string reason, DateTimeOffset now)
    {
        Disabled = true;
        DisabledReason = reason;
        DisabledAt = now;
    }

    public void Enable()
    {
        Disabled = false;
        DisabledReason = null;
        DisabledAt = null;
        Succeeded();
    }

    public EndpointStatus ToStatus(string tenantId) => new(tenantId, !Disabled, DisabledReason, DisabledAt, FailingSince, ConsecutiveFailures);
}

/// <summary>The tenant's latest delivery attempts, oldest first; stored apart because it changes with every attempt.</summary>
[GenerateSerializer, Alias("webhooks.AttemptHistoryState")]
internal sealed class AttemptHistoryState
{
    [Id(0)]
    public List<DeliveryAttempt> Attempts { get; set; } = [];
}
