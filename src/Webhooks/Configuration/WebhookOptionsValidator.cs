using Microsoft.Extensions.Options;

namespace Webhooks.Configuration;

/// <summary>Checks <c>tenants.yaml</c> at start-up; every failure names the file, the tenant and the field.</summary>
internal sealed class WebhookOptionsValidator(ConfigurationOrigin origin) : IValidateOptions<WebhookOptions>
{
    private static readonly string[] WebhookKeys = ["enabled", "topic", "tenants"];
    private static readonly string[] TenantKeys = ["endpoint", "headers", "enabled", "excluded_events", "retry_schedule"];

    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        var section = WebhookOptions.SectionName;

        foreach (var unknown in UnknownKeys(section, WebhookKeys))
        {
            failures.Add($"{origin.Describe($"{section}:{unknown}")}: field '{section}.{unknown}' is not a known setting; expected one of {string.Join(", ", WebhookKeys)}");
        }

        if (string.IsNullOrWhiteSpace(options.Topic) || options.Topic.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            failures.Add($"{origin.Describe($"{section}:topic")}: field '{section}.topic' must be a non-empty name without spaces");
        }

        // Walk the tenants as written, not as bound: the binder silently drops an entry it cannot read.
        foreach (var tenantSection in origin.Configuration.GetSection($"{section}:tenants").GetChildren())
        {
            ValidateTenant(tenantSection.Key, options.Tenants.GetValueOrDefault(tenantSection.Key), failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private void ValidateTenant(string tenantId, TenantWebhookOptions? tenant, List<string> failures)
    {
        var path = $"{WebhookOptions.SectionName}:tenants:{tenantId}";
        var file = origin.Describe(path);
        void Fail(string field, string message) => failures.Add($"{file}: tenant '{tenantId}', field '{field}': {message}");

        if (string.IsNullOrWhiteSpace(tenantId))
        {
            failures.Add($"{file}: tenant '{tenantId}': the tenant id under 'webhook.tenants' is empty");
            return;
        }

        if (tenantId.Length > WebhookEventRules.MaxIdLength || tenantId.Any(char.IsControl))
        {
            Fail("tenants", $"the tenant id must be at most {WebhookEventRules.MaxIdLength} characters without control characters");
        }

        foreach (var unknown in UnknownKeys(path, TenantKeys))
        {
            Fail(unknown, $"is not a known setting; expected one of {string.Join(", ", TenantKeys)}");
        }

        var before = failures.Count;
        if (origin.Configuration[$"{path}:enabled"] is { } enabled && !bool.TryParse(enabled, out _))
        {
            Fail("enabled", $"has a value of the wrong type: '{enabled}' is not true or false");
        }

        if (tenant is null)
        {
            if (failures.Count == before)
            {
                failures.Add($"{file}: tenant '{tenantId}': the entry could not be read; each tenant is a map of endpoint, headers, enabled and excluded_events");
            }

            return;
        }

        if (string.IsNullOrWhiteSpace(tenant.Endpoint))
        {
            if (tenant.Enabled)
            {
                Fail("endpoint", "is required for an enabled tenant");
            }
        }
        else if (!Uri.TryCreate(tenant.Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            Fail("endpoint", $"'{tenant.Endpoint}' is not an absolute http(s) URL");
        }
        else if (uri.UserInfo.Length > 0)
        {
            Fail("endpoint", "must not carry credentials; put them in 'headers'");
        }

        foreach (var excluded in tenant.ExcludedEvents)
        {
            if (!WebhookEventNames.IsKnown(excluded))
            {
                Fail("excluded_events", $"'{excluded}' is not a known event; expected one of {string.Join(", ", WebhookEventNames.All.Order(StringComparer.Ordinal))}");
            }
        }

        if (RetrySchedules.Problem(tenant.RetrySchedule) is { } scheduleProblem)
        {
            Fail("retry_schedule", scheduleProblem);
        }

        foreach (var (header, value) in tenant.Headers)
        {
            if ((HttpHeaderRules.CheckName(header) ?? HttpHeaderRules.CheckValue(value)) is { } problem)
            {
                Fail($"headers.{header}", problem);
            }
        }
    }

    private IEnumerable<string> UnknownKeys(string path, string[] known) =>
        origin.Configuration.GetSection(path).GetChildren()
            .Select(child => child.Key)
            .Where(key => !known.Contains(key, StringComparer.OrdinalIgnoreCase));
}
