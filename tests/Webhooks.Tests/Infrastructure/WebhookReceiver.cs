using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Webhooks.Tests.Infrastructure;

/// <summary>
/// A real HTTP receiver on 127.0.0.1 at a free port. Records every delivery to <c>/hooks/{tenant}</c>, and answers as
/// told per tenant: 200 by default, a chosen status, or never (until the caller gives up).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    private readonly ConcurrentDictionary<string, Behavior> _behaviors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly AsyncSignal _signal = new();
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var receiver = new WebhookReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Limits.MaxConcurrentConnections = null;
        });
        var app = builder.Build();
        app.MapPost("/hooks/{tenant}", receiver.HandleAsync);
        await app.StartAsync();
        receiver._app = app;
        receiver.BaseAddress = new Uri(app.Urls.First());
        return receiver;
    }

    /// <summary>The endpoint URL to configure for <paramref name="tenant"/>.</summary>
    public string EndpointFor(string tenant) => new Uri(BaseAddress, $"/hooks/{tenant}").ToString();

    public IReadOnlyList<ReceivedRequest> RequestsFor(string tenant) => [.. _requests.Where(r => r.Tenant == tenant)];

    public IReadOnlyList<ReceivedRequest> All => [.. _requests];

    /// <summary>Requests for <paramref name="tenant"/> that are still waiting for their answer.</summary>
    public int OpenRequests(string tenant) => _open.GetValueOrDefault(tenant);

    public void RespondWith(string tenant, HttpStatusCode status) => _behaviors[tenant] = new Behavior(status, Hang: false, TimeSpan.Zero);

    /// <summary>
    /// The first <paramref name="count"/> requests for <paramref name="tenant"/> get <paramref name="status"/> (with a
    /// <c>Retry-After</c> when given); later ones get 200.
    /// </summary>
    public void FailFirst(string tenant, int count, HttpStatusCode status = HttpStatusCode.InternalServerError, TimeSpan? retryAfter = null, TimeSpan? successDelay = null) =>
        _behaviors[tenant] = new Behavior(HttpStatusCode.OK, Hang: false, successDelay ?? TimeSpan.Zero) { FailFirst = count, FailStatus = status, RetryAfter = retryAfter };

    /// <summary>Successful (2xx) deliveries of each event id to <paramref name="tenant"/>.</summary>
    public IReadOnlyDictionary<string, int> SuccessesFor(string tenant) =>
        _requests.Where(r => r.Tenant == tenant && r.AnsweredWith is >= 200 and < 300)
            .GroupBy(r => r.EventId)
            .ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Requests for <paramref name="tenant"/> get no answer until the client gives up.</summary>
    /// <summary>Answers 302 Found with a <c>Location</c> that points at <paramref name="target"/>'s endpoint.</summary>
    public void RedirectTo(string tenant, string target) =>
        _behaviors[tenant] = new Behavior(HttpStatusCode.Found, Hang: false, TimeSpan.Zero) { Location = EndpointFor(target) };

    /// <summary>Answers <paramref name="status"/> with <paramref name="body"/> as plain text.</summary>
    public void RespondWith(string tenant, HttpStatusCode status, string body) =>
        _behaviors[tenant] = new Behavior(status, Hang: false, TimeSpan.Zero) { Body = body };

    /// <summary>Answers <paramref name="status"/> at once, then sends part of the body and never the rest.</summary>
    public void StallBody(string tenant, HttpStatusCode status) =>
        _behaviors[tenant] = new Behavior(status, Hang: false, TimeSpan.Zero) { StallBody = true };

    public void Hang(string tenant) => _behaviors[tenant] = new Behavior(HttpStatusCode.OK, Hang: true, TimeSpan.Zero);

    /// <summary>Requests for <paramref name="tenant"/> wait unanswered until <see cref="Release"/>, then get 200.</summary>
    public void Hold(string tenant) => _behaviors[tenant] = new Behavior(HttpStatusCode.OK, Hang: false, TimeSpan.Zero)
    {
        Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
    };

    /// <summary>Answers the requests that <see cref="Hold"/> keeps waiting for <paramref name="tenant"/>, and the later ones at once.</summary>
    public void Release(string tenant) => _behaviors.GetValueOrDefault(tenant)?.Gate?.TrySetResult();

    /// <summary>Requests for <paramref name="tenant"/> are answered 200 after <paramref name="delay"/>.</summary>
    public void AnswerAfter(string tenant, TimeSpan delay) => _behaviors[tenant] = new Behavior(HttpStatusCode.OK, Hang: false, delay);

    /// <summary>Waits until <paramref name="tenant"/> has received at least <paramref name="count"/> requests.</summary>
    public Task<IReadOnlyList<ReceivedRequest>> WaitForAsync(string tenant, int count, TimeSpan? timeout = null) =>
        WaitUntilAsync(() => RequestsFor(tenant), list => list.Count >= count, $"{count} request(s) for '{tenant}'", timeout);

    /// <summary>Waits until <paramref name="condition"/> holds, checking each time a request arrives or ends.</summary>
    public async Task<T> WaitUntilAsync<T>(Func<T> read, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Eventually.DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var next = _signal.Next;
            var value = read();
            if (condition(value))
            {
                return value;
            }

            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Timed out after {limit} waiting for {what}; the receiver has {_requests.Count} request(s) in all.");
            }

            await Task.WhenAny(next, Task.Delay(remaining));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private async Task<IResult> HandleAsync(string tenant, HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync();
        var headers = request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var behavior = _behaviors.GetValueOrDefault(tenant, Behavior.Ok);
        var call = _calls.AddOrUpdate(tenant, 1, (_, n) => n + 1);
        var failing = call <= behavior.FailFirst;
        var status = failing ? behavior.FailStatus : behavior.Status;
        if (failing && behavior.RetryAfter is { } retryAfter)
        {
            request.HttpContext.Response.Headers.RetryAfter = ((int)retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        _open.AddOrUpdate(tenant, 1, (_, n) => n + 1);
        _requests.Enqueue(new ReceivedRequest(tenant, request.Method, headers, body, DateTimeOffset.UtcNow) { AnsweredWith = behavior.Hang ? null : (int)status });
        _signal.Pulse();
        try
        {
            if (behavior.Hang)
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted, _stopping.Token);
                await Task.Delay(Timeout.Infinite, linked.Token).ContinueWith(_ => { }, TaskScheduler.Default);

                // A hung request never gets an answer: when the receiver stops, the connection is cut.
                request.HttpContext.Abort();
                return Results.Empty;
            }

            if (behavior.StallBody)
            {
                var response = request.HttpContext.Response;
                response.StatusCode = (int)status;
                response.ContentType = "text/plain";
                response.ContentLength = 1024;
                await response.WriteAsync("the start of a body that never ends");
                await response.Body.FlushAsync();
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(request.HttpContext.RequestAborted, _stopping.Token);
                await Task.Delay(Timeout.Infinite, linked.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                request.HttpContext.Abort();
                return Results.Empty;
            }

            if (behavior.Gate is { } gate)
            {
                await gate.Task.WaitAsync(_stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            if (!failing && behavior.Delay > TimeSpan.Zero)
            {
                await Task.Delay(behavior.Delay, _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            if (behavior.Location is { } location)
            {
                request.HttpContext.Response.Headers.Location = location;
            }

            return behavior.Body is { } text ? Results.Text(text, "text/plain", statusCode: (int)status) : Results.StatusCode((int)status);
        }
        finally
        {
            _open.AddOrUpdate(tenant, 0, (_, n) => n - 1);
            _signal.Pulse();
        }
    }

    private sealed record Behavior(HttpStatusCode Status, bool Hang, TimeSpan Delay)
    {
        public static readonly Behavior Ok = new(HttpStatusCode.OK, Hang: false, TimeSpan.Zero);

        public int FailFirst { get; init; }

        public HttpStatusCode FailStatus { get; init; }

        public TimeSpan? RetryAfter { get; init; }

        public string? Location { get; init; }

        public string? Body { get; init; }

        public TaskCompletionSource? Gate { get; init; }

        public bool StallBody { get; init; }
    }
}
