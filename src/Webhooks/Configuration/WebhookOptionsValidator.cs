using Microsoft.Extensions.Options;
using Webhooks.Security;

namespace Webhooks.Configuration;

/// <summary>Checks <c>tenants.yaml</c> at start-up; every failure names the file, the tenant and the field.</summary>
internal sealed class WebhookOptionsValidator(ConfigurationOrigin origin, IOptions<SecurityOptions> security) : IValidateOptions<WebhookOptions>
{
    private static readonly string[] WebhookKeys = ["enabled", "topic", "tenants"];
    private static readonly string[] TenantKeys = ["endpoint", "headers", "enabled", "excluded_events", "retry_schedule", "secret", "previous_secrets"];

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

        foreach (var (tenantId, field, problem) in options.UnresolvedReferences)
        {
            failures.Add($"{origin.Describe($"{section}:tenants:{tenantId}")}: tenant '{tenantId}', field '{field}': {problem}");
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

        if (WebhookEventRules.TenantIdProblem(tenantId) is { } idProblem)
        {
            failures.Add($"{file}: tenant '{tenantId}': the tenant id {idProblem}");
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
            Fail("endpoint", $"'{Shown(tenant.Endpoint)}' is not an absolute http(s) URL");
        }
        else if (uri.UserInfo.Length > 0)
        {
            Fail("endpoint", "must not carry credentials; put them in 'headers'");
        }
        else if (security.Value.RequireHttps && uri.Scheme != Uri.UriSchemeHttps)
        {
            Fail("endpoint", "must be https, as security.require_https is set");
        }

        if (tenant.Secret is not null && SigningSecret.TryDecode(tenant.Secret, out var secretProblem) is null)
        {
            Fail("secret", secretProblem!);
        }

        if (tenant.PreviousSecrets.Count > 0 && tenant.Secret is null)
        {
            // Signing would stop without a word once the last of them expired.
            Fail("previous_secrets", "needs a current 'secret': previous secrets only sign beside it while a rotation runs");
        }

        for (var i = 0; i < tenant.PreviousSecrets.Count; i++)
        {
            var previous = tenant.PreviousSecrets[i];
            if (previous.Secret is null)
            {
                Fail($"previous_secrets.{i}.secret", "is required");
            }
            else if (SigningSecret.TryDecode(previous.Secret, out var previousProblem) is null)
            {
                Fail($"previous_secrets.{i}.secret", previousProblem!);
            }

            if (previous.ExpiresAt is null)
            {
                Fail($"previous_secrets.{i}.expires_at", "is required: a rotated-out secret signs until it expires");
            }
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

    // An endpoint as an error may show it: without its query or fragment, nor the credentials before an '@' in its
    // authority, any of which may hold a secret.
    private static string Shown(string endpoint)
    {
        var shown = endpoint.Split(['?', '#'], 2)[0];
        var authority = shown.IndexOf("//", StringComparison.Ordinal) is var slashes and >= 0 ? slashes + 2 : 0;
        var end = shown.IndexOf('/', authority) is var path and >= 0 ? path : shown.Length;
        if (end > authority && shown.LastIndexOf('@', end - 1, end - authority) is var at and >= 0)
        {
            shown = string.Concat(shown.AsSpan(0, authority), "…@", shown.AsSpan(at + 1));
        }

        return shown.Length > 100 ? shown[..100] + "…" : shown;
    }

    private IEnumerable<string> UnknownKeys(string path, string[] known) =>
        origin.Configuration.GetSection(path).GetChildren()
            .Select(child => child.Key)
            .Where(key => !known.Contains(key, StringComparer.OrdinalIgnoreCase));
}
