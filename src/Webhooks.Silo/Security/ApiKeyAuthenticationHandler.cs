using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Webhooks.Silo.Security;

/// <summary>Authenticates <c>Authorization: Bearer &lt;api key&gt;</c> against <c>api.keys</c> and <c>api.admin_keys</c>.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeys keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    private const string BearerPrefix = "Bearer ";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (header is null || !header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (keys.RoleOf(header[BearerPrefix.Length..].Trim()) is not { } role)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, role)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        return base.HandleChallengeAsync(properties);
    }
}

/// <summary>Who may call what on <c>/v1</c>.</summary>
internal static class ApiPolicies
{
    /// <summary>Publishing events: any key.</summary>
    public const string Publish = "publish";

    /// <summary>Operator routes: an admin key when admin keys are set, any key otherwise.</summary>
    public const string Admin = "admin";

    public static IServiceCollection AddApiKeyAuthorization(this IServiceCollection services, ApiKeys keys)
    {
        services.AddSingleton(keys);
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(Publish, policy =>
            {
                if (keys.Required)
                {
                    policy.RequireAuthenticatedUser();
                }
                else
                {
                    policy.RequireAssertion(_ => true);
                }
            })
            .AddPolicy(Admin, policy =>
            {
                if (keys.AdminSeparate)
                {
                    policy.RequireRole(ApiKeys.AdminRole);
                }
                else if (keys.Required)
                {
                    policy.RequireAuthenticatedUser();
                }
                else
                {
                    policy.RequireAssertion(_ => true);
                }
            });
        return services;
    }
}
