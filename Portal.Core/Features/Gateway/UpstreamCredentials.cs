namespace Portal.Core.Features.Gateway;

/// <summary>
/// Encrypts a product's upstream credential at rest. Defined here, implemented by the web host (ASP.NET Core Data
/// Protection, the key ring in the database, as webhook secrets), so Core stays free of the host.
/// </summary>
public interface IUpstreamCredentialProtector
{
    string Protect(string value);

    string Unprotect(string protectedValue);
}
