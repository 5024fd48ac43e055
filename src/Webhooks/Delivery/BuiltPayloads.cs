namespace Webhooks.Delivery;

/// <summary>The payloads of a batch of events, in order: null where the builder failed, and <see cref="Error"/> says why.</summary>
internal sealed record BuiltPayloads(string?[] Payloads, Exception? Error);
