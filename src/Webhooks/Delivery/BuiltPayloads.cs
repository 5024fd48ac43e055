namespace Webhooks.Delivery;

/// <summary>
/// The payloads of a batch of events, in order: null where none was built, and there <see cref="Errors"/> says why. The
/// first <see cref="Due"/> events were about to be sent; the rest were built ahead of their turn.
/// </summary>
internal sealed record BuiltPayloads(string?[] Payloads, Exception?[]? Errors, int Due);
