namespace Webhooks.Tests.Infrastructure;

/// <summary>A directory for a test's configuration files, removed afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("webhooks-tests-").FullName;
    }

    public string Path { get; }

    public string Write(string fileName, string contents)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(path, contents);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
