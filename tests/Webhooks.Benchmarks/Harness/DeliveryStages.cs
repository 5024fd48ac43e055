using System.Diagnostics;
using System.Globalization;
using Webhooks.Observability;

namespace Webhooks.Benchmarks.Harness;

/// <summary>
/// Splits each event's time from publish to arrival into stages, from the engine's own traces: the delivery activity
/// (<c>webhooks.deliver</c>) and the HTTP client's activity beneath it. While one is alive, both sources are recorded,
/// which costs the engine time of its own; its figures show where the time goes, not how fast the engine is.
/// </summary>
/// <remarks>
/// The events of a run carry ids of the form <c>{prefix}{seq}</c>, so that a delivery's activity leads to its number.
/// Only first attempts are kept.
/// </remarks>
internal sealed class DeliveryStages : IDisposable
{
    private const string HttpActivity = "System.Net.Http.HttpRequestOut";

    private readonly string _prefix;
    private readonly long[] _deliverStart;
    private readonly long[] _httpStart;
    private readonly long[] _httpStop;
    private readonly long[] _deliverStop;
    private readonly ActivityListener _listener;

    // Activities keep wall-clock times; the recorder keeps Stopwatch timestamps. One pair read together relates them.
    private readonly DateTime _utcAtBase = DateTime.UtcNow;
    private readonly long _timestampAtBase = Stopwatch.GetTimestamp();

    public DeliveryStages(string prefix, int capacity)
    {
        _prefix = prefix;
        _deliverStart = new long[capacity];
        _httpStart = new long[capacity];
        _httpStop = new long[capacity];
        _deliverStop = new long[capacity];
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is WebhookTracing.SourceName or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>
    /// The stages, in order: publish until the tenant grain starts the delivery (the publish call, for the gateway path
    /// the stream, the grain's turn and the tenant's line); until the HTTP client starts the request (the payload and a
    /// silo slot); until the receiver has read the body (the client's send, loopback TCP, the receiver); until the
    /// client has the response; until the outcome is recorded on the tenant grain's scheduler.
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = ["to delivery start", "to request start", "request", "response", "back on the grain"];

    /// <summary>The id that leads back to <paramref name="seq"/>.</summary>
    public string EventId(int seq) => string.Create(CultureInfo.InvariantCulture, $"{_prefix}{seq}");

    /// <summary>
    /// Each stage's p50 and p99, over the events of <paramref name="recorder"/> that arrived at or after
    /// <paramref name="from"/> (a Stopwatch timestamp) with every stage seen; then the whole way, publish to arrival,
    /// over the same events.
    /// </summary>
    public (int Events, IReadOnlyList<StageFigure> Figures) Summarize(DeliveryRecorder recorder, long from)
    {
        var stages = Enumerable.Range(0, Names.Count + 1).Select(_ => new List<double>()).ToArray();
        var issued = recorder.Issued;
        for (var seq = 0; seq < issued && seq < _deliverStart.Length; seq++)
        {
            var (sent, received) = recorder.Times(seq);
            if (received < from || sent == 0 || _deliverStart[seq] == 0 || _httpStart[seq] == 0 || _deliverStop[seq] == 0)
            {
                continue;
            }

            var arrived = Utc(received);
            long[] points = [Utc(sent), _deliverStart[seq], _httpStart[seq], arrived, _httpStop[seq], _deliverStop[seq]];
            for (var stage = 0; stage < Names.Count; stage++)
            {
                stages[stage].Add(TimeSpan.FromTicks(points[stage + 1] - points[stage]).TotalMilliseconds);
            }

            stages[^1].Add(TimeSpan.FromTicks(arrived - points[0]).TotalMilliseconds);
        }

        var names = Names.Append("publish to arrival");
        return (stages[0].Count, [.. names.Zip(stages, (name, values) =>
        {
            var sorted = values.Order().ToArray();
            return new StageFigure(name, Workload.Percentile(sorted, 0.5), Workload.Percentile(sorted, 0.99));
        })]);
    }

    public void Dispose() => _listener.Dispose();

    private long Utc(long timestamp) => _utcAtBase.Ticks + Stopwatch.GetElapsedTime(_timestampAtBase, timestamp).Ticks;

    private void Stopped(Activity activity)
    {
        if (activity.OperationName == HttpActivity && activity.Parent is { } deliver && Seq(deliver) is { } seq)
        {
            _httpStart[seq] = activity.StartTimeUtc.Ticks;
            _httpStop[seq] = (activity.StartTimeUtc + activity.Duration).Ticks;
        }
        else if (activity.Source.Name == WebhookTracing.SourceName && Seq(activity) is { } delivered)
        {
            _deliverStart[delivered] = activity.StartTimeUtc.Ticks;
            _deliverStop[delivered] = (activity.StartTimeUtc + activity.Duration).Ticks;
        }
    }

    // The event number of a first delivery attempt of this run; null for anything else.
    private int? Seq(Activity activity) =>
        activity.OperationName == "webhooks.deliver"
        && activity.GetTagItem("webhooks.attempt") is 1
        && activity.GetTagItem("webhooks.event_id") is string id
        && id.StartsWith(_prefix, StringComparison.Ordinal)
        && int.TryParse(id.AsSpan(_prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var seq)
        && (uint)seq < (uint)_deliverStart.Length
            ? seq
            : null;
}

/// <summary>Where one path's time from publish to arrival goes, stage by stage, at a given rate.</summary>
internal sealed record StageBreakdown(string Path, int Tenants, double RatePerS, int Events, IReadOnlyList<StageFigure> Stages);

/// <summary>One stage's median and p99, in ms.</summary>
internal sealed record StageFigure(string Name, double P50Ms, double P99Ms);
