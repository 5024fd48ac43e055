namespace Webhooks.Tests.Infrastructure;

/// <summary>A <c>tenants.yaml</c> written out in full by a test.</summary>
public sealed class RawTenantsYaml(string yaml) : TenantsYaml
{
    public override string ToString() => yaml;
}
