using System.Buffers;
using System.Buffers.Text;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Webhooks.Benchmarks.Harness;

/// <summary>
/// A Kestrel receiver on 127.0.0.1 that answers 200 after reading each body, recording the event number it carries.
/// Paths under <c>/hang/</c> get no answer while <see cref="HangEnabled"/> is on, until the sender gives up.
/// </summary>
internal sealed class BenchmarkReceiver : IAsyncDisposable
{
    private static readonly byte[] SeqMarker = "\"seq\":"u8.ToArray();
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private BenchmarkReceiver(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public DeliveryRecorder? Recorder { get; set; }

    public bool HangEnabled { get; set; }

    public static async Task<BenchmarkReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Limits.MaxConcurrentConnections = null;
        });
        var app = builder.Build();
        BenchmarkReceiver? receiver = null;
        app.Run(context => receiver!.HandleAsync(context));
        await app.StartAsync();
        receiver = new BenchmarkReceiver(app, new Uri(app.Urls.First()));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var length = (int)(request.ContentLength ?? 0);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1024));
        try
        {
            var read = 0;
            int n;
            while ((n = await request.Body.ReadAsync(buffer.AsMemory(read, buffer.Length - read), context.RequestAborted)) > 0)
            {
                read += n;
                if (read == buffer.Length)
                {
                    break;
                }
            }

            Recorder?.Received(Seq(buffer.AsSpan(0, read)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (HangEnabled && request.Path.StartsWithSegments("/hang"))
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
            await Task.Delay(Timeout.Infinite, linked.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            context.Abort();
            return;
        }

        context.Response.StatusCode = 200;
    }

    private static int Seq(ReadOnlySpan<byte> body)
    {
        var at = body.IndexOf(SeqMarker);
        return at >= 0 && Utf8Parser.TryParse(body[(at + SeqMarker.Length)..], out int seq, out _) ? seq : -1;
    }
}
