using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Options;
using System.Diagnostics;
using System.Globalization;
using Webhooks.Configuration;
using Webhooks.Observability;
using Webhooks.Security;

namespace Webhooks.Delivery;

/// <summary>
/// Sends one delivery: a POST of the event's JSON body to the tenant's endpoint, with the tenant's headers, under the
/// configured timeout. Never throws for a failed delivery; the result says what happened. The PRD's <c>httpclient.Client</c>.
/// </summary>
internal sealed class WebhookSender(IHttpClientFactory httpClientFactory, IOptions<DeliveryOptions> options, TimeProvider timeProvider)
{
    public const string HttpClientName = "Webhooks.Delivery";

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");
    private const int MaxPooledTimeouts = 1024;

    private readonly DeliveryOptions _options = options.Value;
    private readonly ConcurrentQueue<CancellationTokenSource> _timeouts = new();

    // The handler never rotates (its pooled connections do), so one client serves every delivery.
    private HttpClient? _client;

    private HttpClient Client => _client ??= httpClientFactory.CreateClient(HttpClientName);

    public async Task<DeliveryResult> SendAsync(TenantEndpoint tenant, WebhookEvent webhookEvent, string payload, string? traceParent, CancellationToken cancellationToken)
    {
        var started = timeProvider.GetTimestamp();
        var timeout = RentTimeout();
        var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken) : null;
        var token = linked?.Token ?? timeout.Token;
        try
        {
            using var request = CreateRequest(tenant, webhookEvent, payload, traceParent);
            using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new(DeliveryOutcomes.Delivered, status, null, timeProvider.GetElapsedTime(started), null);
            }

            var excerpt = await ReadExcerptAsync(response, token);
            return new(
                DeliveryOutcomes.HttpError,
                status,
                $"HTTP {status} {response.ReasonPhrase}".TrimEnd(),
                timeProvider.GetElapsedTime(started),
                excerpt,
                status is 429 or 503 ? RetryAfter(response.Headers.RetryAfter) : null);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new(DeliveryOutcomes.Timeout, null, $"no response within {_options.Timeout}", timeProvider.GetElapsedTime(started), null);
        }
        catch (HttpRequestException ex) when (FindRefusal(ex) is { } refusal)
        {
            return new(DeliveryOutcomes.Refused, null, refusal.Message, timeProvider.GetElapsedTime(started), null);
        }
        catch (HttpRequestException ex)
        {
            return new(DeliveryOutcomes.ConnectionError, null, Describe(ex), timeProvider.GetElapsedTime(started), null);
        }
        finally
        {
            // The linked source lets go of the timeout before the timeout goes to another delivery.
            linked?.Dispose();
            ReturnTimeout(timeout);
        }
    }

    // A delivery's timeout: a token source with a timer, taken from those that earlier deliveries ended before their
    // timeout (most do), so that each request does not create a source and a timer of its own.
    private CancellationTokenSource RentTimeout()
    {
        if (!_timeouts.TryDequeue(out var timeout))
        {
            timeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, timeProvider);
        }

        timeout.CancelAfter(_options.Timeout);
        return timeout;
    }

    private void ReturnTimeout(CancellationTokenSource timeout)
    {
        // A source that fired, or whose timer may already be firing, cannot be reset and is not reused; nor, as .NET
        // resets only its own timers, is one whose timer comes from another TimeProvider (a test clock).
        if (_timeouts.Count < MaxPooledTimeouts && timeout.TryReset())
        {
            _timeouts.Enqueue(timeout);
        }
        else
        {
            timeout.Dispose();
        }
    }

    private HttpRequestMessage CreateRequest(TenantEndpoint tenant, WebhookEvent webhookEvent, string payload, string? traceParent)
    {
        var body = WebhookRequestBody.Write(webhookEvent, payload);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = JsonContentType;
        var request = new HttpRequestMessage(HttpMethod.Post, tenant.Endpoint) { Content = content };
        request.Headers.TryAddWithoutValidation("User-Agent", _options.UserAgent);

        // The receiver joins the trace: the attempt's own span when tracing is on, else the publisher's.
        if ((Activity.Current?.Id ?? traceParent) is { } parent)
        {
            request.Headers.TryAddWithoutValidation(WebhookTracing.TraceParent, parent);
        }

        if (tenant.Signs)
        {
            // Signed per attempt: the id stays the same across retries, the timestamp is the attempt's own.
            var now = timeProvider.GetUtcNow();
            var timestamp = now.ToUnixTimeSeconds();
            request.Headers.TryAddWithoutValidation(WebhookSigner.IdHeader, webhookEvent.Id);
            request.Headers.TryAddWithoutValidation(WebhookSigner.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation(WebhookSigner.SignatureHeader, WebhookSigner.Sign(tenant.SigningKeysAt(now), webhookEvent.Id, timestamp, body));
        }

        foreach (var (name, value) in tenant.Headers)
        {
            // Headers such as Content-Language belong to the content, the rest to the request.
            if (!request.Headers.TryAddWithoutValidation(name, value))
            {
                content.Headers.TryAddWithoutValidation(name, value);
            }
        }

        return request;
    }

    private async Task<string?> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (_options.ResponseExcerptBytes == 0)
        {
            return null;
        }

        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[_options.ResponseExcerptBytes];
            var read = 0;
            while (read < buffer.Length && await body.ReadAsync(buffer.AsMemory(read), cancellationToken) is var n and > 0)
            {
                read += n;
            }

            return Encoding.UTF8.GetString(buffer, 0, read);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            // The status and headers have come, and decide what follows (410, Retry-After): a body that stalls past
            // the timeout only goes without its excerpt.
            return null;
        }
    }

    private TimeSpan? RetryAfter(RetryConditionHeaderValue? header) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date > timeProvider.GetUtcNow() ? date - timeProvider.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };

    private static DeliveryRefusedException? FindRefusal(Exception ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is DeliveryRefusedException refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    private static string Describe(HttpRequestException ex)
    {
        var message = new StringBuilder(ex.HttpRequestError.ToString());
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            message.Append(": ").Append(inner.Message);
        }

        return message.ToString();
    }
}
