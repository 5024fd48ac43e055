using System.Net;

namespace Webhooks.Tests;

/// <summary>
/// Who reaches the Orleans dashboard: the admin key when admin keys are set, any key when only publisher keys are, anyone
/// when no key is set; and nobody when <c>observability.dashboard</c> is off.
/// </summary>
public sealed class DashboardAccessTests
{
    private const string PublisherKey = "publisher-key-for-the-dashboard-01";
    private const string AdminKey = "admin-key-for-the-dashboard-000001";
    private const string Tenants = "webhook:\n  tenants: {}\n";

    [Fact]
    public async Task With_only_publisher_keys_any_key_opens_the_dashboard_and_no_key_or_a_wrong_one_does_not()
    {
        await using var silo = await SiloHost.StartAsync(Tenants, $"observability:\n  dashboard: true\napi:\n  keys: [{PublisherKey}]\n");

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(silo, key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(silo, "not-a-configured-key-at-all-000001")).StatusCode);
        await AssertDashboardAsync(await GetAsync(silo, PublisherKey));
    }

    [Fact]
    public async Task With_admin_keys_a_publisher_key_is_forbidden()
    {
        await using var silo = await SiloHost.StartAsync(Tenants, $"observability:\n  dashboard: true\napi:\n  keys: [{PublisherKey}]\n  admin_keys: [{AdminKey}]\n");

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(silo, PublisherKey)).StatusCode);
        await AssertDashboardAsync(await GetAsync(silo, AdminKey));
    }

    [Fact]
    public async Task With_no_key_set_the_dashboard_is_open_on_loopback()
    {
        await using var silo = await SiloHost.StartAsync(Tenants, "observability:\n  dashboard: true\n");

        await AssertDashboardAsync(await GetAsync(silo, key: null));
    }

    [Fact]
    public async Task With_the_dashboard_off_it_is_not_found_with_or_without_keys()
    {
        await using (var open = await SiloHost.StartAsync(Tenants, "observability:\n  dashboard: false\n"))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(open, key: null)).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await open.Http.GetAsync("/dashboard")).StatusCode);
        }

        await using var keyed = await SiloHost.StartAsync(Tenants, $"api:\n  keys: [{PublisherKey}]\n  admin_keys: [{AdminKey}]\n");
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(keyed, AdminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(keyed, key: null)).StatusCode);
    }

    // The trailing slash: a redirect from /dashboard would drop the Authorization header.
    private static Task<HttpResponseMessage> GetAsync(SiloHost silo, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard/");
        if (key is not null)
        {
            request.Headers.Add("Authorization", $"Bearer {key}");
        }

        return silo.Http.SendAsync(request);
    }

    private static async Task AssertDashboardAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Orleans", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }
}
