using System.Collections.Concurrent;
using System.Diagnostics;
using Orleans.Streams;

namespace Webhooks.Streaming;

/// <summary>
/// The memory stream's queues, with a prompt wake-up: a queue's pulling agent that finds its queue empty waits for the
/// next publish to it from this process instead of for its next poll, so an event published in the silo reaches its
/// tenant grain at once rather than up to a poll interval later. Publishes from other processes (an external client's
/// gateway) are still found by polling, every <paramref name="pollInterval"/>.
/// </summary>
/// <remarks>Everything else (queues, cache, queue mapping, failure handling) is the wrapped factory's.</remarks>
internal sealed class PromptQueueAdapterFactory(IQueueAdapterFactory inner, TimeSpan pollInterval, TimeSpan? maxHold = null) : IQueueAdapterFactory
{
    // A read returns within this time even when it finds nothing, so that the pulling agent's upkeep still runs.
    private readonly TimeSpan _maxHold = maxHold ?? TimeSpan.FromSeconds(1);

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task<IQueueAdapter> CreateAdapter() => CreateAdapter(CancellationToken.None);

    public async Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken) =>
        new Adapter(await inner.CreateAdapter(cancellationToken), inner.GetStreamQueueMapper(), pollInterval, _maxHold);

    public IQueueAdapterCache GetQueueAdapterCache() => inner.GetQueueAdapterCache();

    public IStreamQueueMapper GetStreamQueueMapper() => inner.GetStreamQueueMapper();

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => inner.GetDeliveryFailureHandler(queueId);

    private sealed class Adapter(IQueueAdapter inner, IStreamQueueMapper mapper, TimeSpan pollInterval, TimeSpan maxHold) : IQueueAdapter
    {
        private readonly ConcurrentDictionary<QueueId, QueueSignal> _signals = new();

        public string Name => inner.Name;

        public bool IsRewindable => inner.IsRewindable;

        public StreamProviderDirection Direction => inner.Direction;

        public async Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
        {
            await inner.QueueMessageBatchAsync(streamId, events, token, requestContext);

            // Only once the queue has the event: a receiver woken before then would find nothing.
            Signal(mapper.GetQueueForStream(streamId)).Set();
        }

        public IQueueAdapterReceiver CreateReceiver(QueueId queueId) => new Receiver(inner.CreateReceiver(queueId), Signal(queueId), pollInterval, maxHold);

        private QueueSignal Signal(QueueId queueId) => _signals.GetOrAdd(queueId, static _ => new QueueSignal());
    }

    private sealed class Receiver(IQueueAdapterReceiver inner, QueueSignal signal, TimeSpan pollInterval, TimeSpan maxHold) : IQueueAdapterReceiver
    {
        // Woken reads of a busy queue are spaced so, each taking what was published since the last: a read per
        // publish would cost more than the events it carries.
        private static readonly TimeSpan MinSpacing = TimeSpan.FromMilliseconds(5);

        private readonly CancellationTokenSource _shutdown = new();
        private Task? _poll;

        public Task Initialize(TimeSpan timeout) => inner.Initialize(timeout);

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

        public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            while (true)
            {
                // Armed before the read, so that a publish landing between the read and the wait is not missed.
                var published = signal.Next();
                var read = Stopwatch.GetTimestamp();
                var messages = await inner.GetQueueMessagesAsync(maxCount, cancellationToken);
                if (messages.Count > 0 || cancellationToken.IsCancellationRequested || _shutdown.IsCancellationRequested || Stopwatch.GetElapsedTime(started) >= maxHold)
                {
                    return messages;
                }

                // Nothing yet: wait for a publish from this process, or poll again for one from elsewhere.
                try
                {
                    // One poll timer serves every wait until it fires: a publish does not start another.
                    if (_poll is not { IsCompleted: false })
                    {
                        _poll = Task.Delay(pollInterval, _shutdown.Token);
                    }

                    await Task.WhenAny(published, _poll).WaitAsync(cancellationToken);
                    if (published.IsCompleted && MinSpacing - Stopwatch.GetElapsedTime(read) is { } rest && rest > TimeSpan.Zero)
                    {
                        await Task.Delay(rest, cancellationToken);
                    }
                }
                catch (OperationCanceledException)
                {
                    return messages;
                }
            }
        }

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => MessagesDeliveredAsync(messages, CancellationToken.None);

        public Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken) =>
            inner.MessagesDeliveredAsync(messages, cancellationToken);

        public async Task Shutdown(TimeSpan timeout)
        {
            await _shutdown.CancelAsync();
            await inner.Shutdown(timeout);
        }
    }

    // Completes, once, the task handed to the receiver waiting on a queue when something is published to it.
    private sealed class QueueSignal
    {
        private TaskCompletionSource? _next;

        public Task Next()
        {
            var next = Volatile.Read(ref _next);
            if (next is not null)
            {
                return next.Task;
            }

            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return (Interlocked.CompareExchange(ref _next, created, null) ?? created).Task;
        }

        public void Set() => Interlocked.Exchange(ref _next, null)?.TrySetResult();
    }
}
