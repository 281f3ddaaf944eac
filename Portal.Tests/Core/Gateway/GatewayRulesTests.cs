using System.Net;
using Portal.Core.Common;
using Portal.Core.Domain;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Gateway;

/// <summary>Where an upstream may live, and what the usage log keeps of a gateway path.</summary>
public sealed class GatewayRulesTests
{
    [Theory]
    [InlineData("169.254.169.254")] // AWS, GCP, Azure, Oracle metadata
    [InlineData("169.254.0.1")]
    [InlineData("::ffff:169.254.169.254")] // IPv4-mapped
    [InlineData("::169.254.169.254")] // IPv4-compatible
    [InlineData("64:ff9b::169.254.169.254")] // NAT64
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")] // AWS metadata over IPv6
    [InlineData("100.100.100.200")] // Alibaba Cloud metadata
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    [InlineData("224.0.0.1")]
    [InlineData("ff02::1")]
    [InlineData("240.0.0.1")]
    [InlineData("255.255.255.255")]
    public void LinkLocalMetadataUnspecifiedMulticastAndReserved_AreRefused(string address) =>
        Assert.True(GatewayRules.IsRefusedAddress(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.10")]
    [InlineData("192.168.1.20")]
    [InlineData("100.64.0.1")]
    [InlineData("fd12:3456::1")]
    [InlineData("8.8.8.8")]
    [InlineData("2001:db8::1")]
    [InlineData("64:ff9b::8.8.8.8")]
    [InlineData("::ffff:10.0.0.1")]
    public void LoopbackPrivateAndPublic_AreAllowed(string address) =>
        Assert.False(GatewayRules.IsRefusedAddress(IPAddress.Parse(address)), address);

    [Theory]
    [InlineData("/gateway/w/forecast", null, "/gateway/w/forecast")]
    [InlineData("/gateway/w/forecast", "?city=Oslo&token=s3cret", "/gateway/w/forecast?city&token")]
    [InlineData("/gateway/w/a", "?flag&key=a=b&&empty=", "/gateway/w/a?flag&key&empty")]
    public void LoggedPath_KeepsTheQuerysNamesOnly(string path, string? query, string logged) =>
        Assert.Equal(logged, GatewayRules.LoggedPath(path, query));

    [Theory]
    [InlineData("Authorization", true)]
    [InlineData("X-Backend-Token", true)]
    [InlineData("X-Api-Key", false)]
    [InlineData("Cookie", false)]
    [InlineData("X-Portal-Plan", false)]
    [InlineData("X-Portal-Anything", false)] // the family the upstream trusts as the gateway's own
    [InlineData("X-Forwarded-For", false)]
    [InlineData("Host", false)]
    [InlineData("Bad Header", false)]
    public void CredentialHeader_IsATokenTheGatewayDoesNotOwn(string name, bool acceptable) =>
        Assert.Equal(acceptable, GatewayRules.IsAcceptableCredentialHeader(name));

    [Fact]
    public void LoggedPath_IsCutToItsColumn() =>
        Assert.Equal(GatewayRules.MaxLoggedPathLength, GatewayRules.LoggedPath("/gateway/w/" + new string('a', 5000), "?x=1").Length);
}

/// <summary>A product's upstream address is checked when it is saved, literal IPv6 addresses included.</summary>
public sealed class GatewayUpstreamSaveTests : IAsyncLifetime
{
    private TestDatabase _db = null!;

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    [Theory]
    [InlineData("http://169.254.169.254/latest")]
    [InlineData("http://[fd00:ec2::254]/latest")]
    [InlineData("http://[fe80::1]:8080/")]
    [InlineData("http://100.100.100.200/")]
    [InlineData("http://[::ffff:169.254.169.254]/")]
    public async Task MetadataAndLinkLocalUpstreams_AreRefusedWhenSaved(string upstream)
    {
        var saved = await _db.Get<ProductService>().CreateAsync(await _db.RootAsync(), new CreateProduct
        {
            Name = $"p-{Guid.NewGuid():N}"[..12], UpstreamUrl = upstream, Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free }],
        });
        Assert.False(saved.IsSuccess);
        Assert.Contains("upstreamUrl", Assert.IsType<ValidationError>(saved.Error).Errors.Keys);
    }

    [Fact]
    public async Task ABackendOnAPrivateNetwork_IsAccepted()
    {
        var saved = await _db.Get<ProductService>().CreateAsync(await _db.RootAsync(), new CreateProduct
        {
            Name = "Private backend", UpstreamUrl = "http://10.0.0.5:8080/v1", Plans = [new PlanRequest { Name = "Free", Type = PlanType.Free }],
        });
        Assert.True(saved.IsSuccess, saved.Error?.Detail);
    }
}
