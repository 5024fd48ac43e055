using System.Collections.Concurrent;
using Orleans.Streams;
using Webhooks.Streaming;

namespace Webhooks.Tests;

/// <summary>
/// The stream queues' prompt wake-up: a pulling agent's read that finds its queue empty returns as soon as this process
/// publishes to the queue, still finds by polling what other processes publish, and never holds on past its limit,
/// shutdown or cancellation.
/// </summary>
public sealed class PromptQueueTests
{
    private static readonly TimeSpan Never = TimeSpan.FromHours(1);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_waiting_read_returns_the_event_this_process_publishes_without_waiting_for_a_poll()
    {
        var queue = new FakeQueues();
        var (adapter, receiver) = await StartAsync(queue, pollInterval: Never, maxHold: Never);

        var read = receiver.GetQueueMessagesAsync(100, CancellationToken.None);
        await queue.WaitForReadsAsync(1);
        Assert.False(read.IsCompleted);

        await adapter.QueueMessageBatchAsync(FakeQueues.Stream, new[] { "evt-1" }, null, null);

        var messages = await read.WaitAsync(Deadline);
        Assert.Equal(["evt-1"], messages.Cast<FakeBatch>().Select(b => b.Event));
    }

    [Fact]
    public async Task An_event_queued_before_the_read_is_returned_at_once()
    {
        var queue = new FakeQueues();
        var (adapter, receiver) = await StartAsync(queue, pollInterval: Never, maxHold: Never);
        await adapter.QueueMessageBatchAsync(FakeQueues.Stream, new[] { "evt-1" }, null, null);

        var messages = await receiver.GetQueueMessagesAsync(100, CancellationToken.None).WaitAsync(Deadline);

        Assert.Equal(["evt-1"], messages.Cast<FakeBatch>().Select(b => b.Event));
        Assert.Equal(1, queue.Reads);
    }

    [Fact]
    public async Task An_event_another_process_published_is_found_by_polling()
    {
        var queue = new FakeQueues();
        var (_, receiver) = await StartAsync(queue, pollInterval: TimeSpan.FromMilliseconds(10), maxHold: Never);

        var read = receiver.GetQueueMessagesAsync(100, CancellationToken.None);
        await queue.WaitForReadsAsync(1);

        // Queued without going through this process's adapter: nothing signals the waiting read.
        queue.Enqueue("from-elsewhere");

        var messages = await read.WaitAsync(Deadline);
        Assert.Equal(["from-elsewhere"], messages.Cast<FakeBatch>().Select(b => b.Event));
        Assert.True(queue.Reads >= 2);
    }

    [Fact]
    public async Task A_read_that_finds_nothing_returns_empty_once_its_hold_ends()
    {
        var queue = new FakeQueues();
        var (_, receiver) = await StartAsync(queue, pollInterval: TimeSpan.FromMilliseconds(10), maxHold: TimeSpan.FromMilliseconds(50));

        var messages = await receiver.GetQueueMessagesAsync(100, CancellationToken.None).WaitAsync(Deadline);

        Assert.Empty(messages);
    }

    [Fact]
    public async Task Shutdown_and_cancellation_end_a_waiting_read()
    {
        var queue = new FakeQueues();
        var (_, receiver) = await StartAsync(queue, pollInterval: Never, maxHold: Never);
        var read = receiver.GetQueueMessagesAsync(100, CancellationToken.None);
        await queue.WaitForReadsAsync(1);

        await receiver.Shutdown(TimeSpan.FromSeconds(1));

        Assert.Empty(await read.WaitAsync(Deadline));
        Assert.True(queue.ShutDown);

        var (_, other) = await StartAsync(new FakeQueues(), pollInterval: Never, maxHold: Never);
        using var cancellation = new CancellationTokenSource();
        var cancelled = other.GetQueueMessagesAsync(100, cancellation.Token);
        await cancellation.CancelAsync();
        Assert.Empty(await cancelled.WaitAsync(Deadline));
    }

    private static async Task<(IQueueAdapter Adapter, IQueueAdapterReceiver Receiver)> StartAsync(FakeQueues queue, TimeSpan pollInterval, TimeSpan maxHold)
    {
        var factory = new PromptQueueAdapterFactory(queue, pollInterval, maxHold);
        var adapter = await factory.CreateAdapter(CancellationToken.None);
        return (adapter, adapter.CreateReceiver(FakeQueues.Queue));
    }

    /// <summary>One in-memory queue behind the factory, adapter and receiver interfaces, counting its reads.</summary>
    private sealed class FakeQueues : IQueueAdapterFactory, IQueueAdapter, IQueueAdapterReceiver, IStreamQueueMapper
    {
        public static readonly QueueId Queue = QueueId.GetQueueId("test", 0, 0);
        public static readonly StreamId Stream = StreamId.Create("ns", "tenant");

        private readonly ConcurrentQueue<IBatchContainer> _messages = new();
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public bool ShutDown { get; private set; }

        public string Name => "fake";

        public bool IsRewindable => false;

        public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

        public void Enqueue(string webhookEvent) => _messages.Enqueue(new FakeBatch(Stream, webhookEvent));

        public Task WaitForReadsAsync(int count) => Eventually.Until(() => Task.FromResult(Reads >= count), $"{count} read(s) of the queue");

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(this);

        public Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken) => Task.FromResult<IQueueAdapter>(this);

        public IQueueAdapterCache GetQueueAdapterCache() => throw new NotSupportedException();

        public IStreamQueueMapper GetStreamQueueMapper() => this;

        public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => throw new NotSupportedException();

        public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
        {
            foreach (var item in events)
            {
                Enqueue((string)(object)item!);
            }

            return Task.CompletedTask;
        }

        public IQueueAdapterReceiver CreateReceiver(QueueId queueId) => this;

        public IEnumerable<QueueId> GetAllQueues() => [Queue];

        public QueueId GetQueueForStream(StreamId streamId) => Queue;

        public Task Initialize(TimeSpan timeout) => Task.CompletedTask;

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            var batch = new List<IBatchContainer>();
            while (batch.Count < maxCount && _messages.TryDequeue(out var message))
            {
                batch.Add(message);
            }

            return Task.FromResult<IList<IBatchContainer>>(batch);
        }

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => Task.CompletedTask;

        public Task Shutdown(TimeSpan timeout)
        {
            ShutDown = true;
            return Task.CompletedTask;
        }
    }

    private sealed record FakeBatch(StreamId StreamId, string Event) : IBatchContainer
    {
        public StreamSequenceToken SequenceToken => null!;

        public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() => [];

        public bool ImportRequestContext() => false;
    }
}
