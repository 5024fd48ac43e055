using Microsoft.Extensions.Options;

namespace Webhooks.Configuration;

/// <summary>Checks the <c>delivery</c> section of <c>silo.yaml</c> at start-up.</summary>
internal sealed class DeliveryOptionsValidator(ConfigurationOrigin origin) : IValidateOptions<DeliveryOptions>
{
    public ValidateOptionsResult Validate(string? name, DeliveryOptions options)
    {
        var failures = new List<string>();
        void Check(bool ok, string key, string message)
        {
            if (!ok)
            {
                var path = $"{DeliveryOptions.SectionName}:{key}";
                failures.Add($"{origin.Describe(path)}: field '{DeliveryOptions.SectionName}.{key}' {message}");
            }
        }

        Check(options.Timeout > TimeSpan.Zero, "timeout", "must be a positive duration such as 00:00:10");
        Check(options.MaxConcurrency is >= 1 and <= 10_000, "max_concurrency", "must be between 1 and 10000");
        Check(options.BufferSize is >= 1 and <= 1_000_000, "buffer_size", "must be between 1 and 1000000");
        Check(options.ResponseExcerptBytes is >= 0 and <= 65_536, "response_excerpt_bytes", "must be between 0 and 65536");
        Check(HttpHeaderRules.CheckValue(options.UserAgent) is null && options.UserAgent.Length > 0, "user_agent", "must be non-empty printable ASCII");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
