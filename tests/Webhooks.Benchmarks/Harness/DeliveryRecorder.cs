using System.Diagnostics;

namespace Webhooks.Benchmarks.Harness;

/// <summary>
/// When each numbered event was sent and when the receiver first got it. Events carry their number (<c>seq</c>) in the
/// payload, so the receiver can record an arrival without a lookup.
/// </summary>
internal sealed class DeliveryRecorder(int capacity)
{
    private readonly long[] _sent = new long[capacity];
    private readonly long[] _received = new long[capacity];
    private readonly int[] _arrivals = new int[capacity];
    private readonly bool[] _watched = new bool[capacity];
    private int _next = -1;
    private int _delivered;
    private int _watchedDelivered;
    private int _duplicates;

    public int Capacity => capacity;

    public int Issued => Math.Min(Volatile.Read(ref _next) + 1, capacity);

    public int Delivered => Volatile.Read(ref _delivered);

    /// <summary>Deliveries of events marked as watched, such as those to healthy tenants.</summary>
    public int WatchedDelivered => Volatile.Read(ref _watchedDelivered);

    public int Duplicates => Volatile.Read(ref _duplicates);

    public void Reset()
    {
        Array.Clear(_sent);
        Array.Clear(_received);
        Array.Clear(_arrivals);
        Array.Clear(_watched);
        _next = -1;
        _delivered = 0;
        _watchedDelivered = 0;
        _duplicates = 0;
    }

    /// <summary>The next event number, or -1 when the recorder is full.</summary>
    public int Next()
    {
        var seq = Interlocked.Increment(ref _next);
        return seq < capacity ? seq : -1;
    }

    public void Sent(int seq, bool watched = true)
    {
        _watched[seq] = watched;
        _sent[seq] = Stopwatch.GetTimestamp();
    }

    public void Received(int seq)
    {
        if ((uint)seq >= (uint)capacity)
        {
            return;
        }

        if (Interlocked.Increment(ref _arrivals[seq]) == 1)
        {
            _received[seq] = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _delivered);
            if (_watched[seq])
            {
                Interlocked.Increment(ref _watchedDelivered);
            }
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
        }
    }

    /// <summary>When the event was sent and when it first arrived, as Stopwatch timestamps; zero for what has not happened.</summary>
    public (long Sent, long Received) Times(int seq) => (_sent[seq], Volatile.Read(ref _received[seq]));

    public bool WasDelivered(int seq) => Volatile.Read(ref _arrivals[seq]) > 0;

    /// <summary>Send-to-arrival latencies, in ms, of the watched events that arrived between two timestamps.</summary>
    public double[] LatenciesMs(long from, long to)
    {
        var latencies = new List<double>();
        var issued = Issued;
        for (var seq = 0; seq < issued; seq++)
        {
            var received = _received[seq];
            if (_watched[seq] && received >= from && received <= to && _sent[seq] != 0)
            {
                latencies.Add(Stopwatch.GetElapsedTime(_sent[seq], received).TotalMilliseconds);
            }
        }

        return [.. latencies];
    }
}
