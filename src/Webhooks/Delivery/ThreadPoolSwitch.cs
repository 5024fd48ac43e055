using System.Runtime.CompilerServices;

namespace Webhooks.Delivery;

/// <summary>
/// Awaited, moves the rest of an async method onto the thread pool, off the scheduler it ran on (a grain's), as
/// <c>Task.Run</c> would, but without the delegate, closure and proxy task that it allocates for each call.
/// </summary>
/// <remarks>
/// The method's own task still completes on whichever thread finishes it, and whoever awaits that task resumes on its
/// own scheduler: a grain that awaits such a method continues on the grain.
/// </remarks>
internal readonly struct ThreadPoolSwitch : ICriticalNotifyCompletion
{
    public static ThreadPoolSwitch Instance => default;

    public bool IsCompleted => false;

    public ThreadPoolSwitch GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static run => run(), continuation, preferLocal: true);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static run => run(), continuation, preferLocal: true);
}
