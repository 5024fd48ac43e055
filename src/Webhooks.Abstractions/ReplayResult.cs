namespace Webhooks;

/// <summary>What a replay of failed events did.</summary>
/// <param name="Replayed">Events moved back to delivery.</param>
/// <param name="Remaining">Matching events left failed because the tenant's buffer had no more room; replay them later.</param>
[GenerateSerializer, Immutable, Alias("webhooks.ReplayResult")]
public sealed record ReplayResult([property: Id(0)] int Replayed, [property: Id(1)] int Remaining);
