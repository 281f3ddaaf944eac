using Microsoft.EntityFrameworkCore;
using Portal.Core.Common;
using Portal.Core.Features.Audit;
using Portal.Core.Features.Organisation;
using Portal.Tests.Support;

namespace Portal.Tests.Core.Organisation;

public sealed class OrganisationServiceTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private OrganisationService Organisation => _db.Get<OrganisationService>();

    public async ValueTask InitializeAsync() => _db = await TestDatabase.CreateAsync();

    public async ValueTask DisposeAsync() => await _db.DisposeAsync();

    private static UpdateOrganisation Valid() => new()
    {
        Name = "Acme APIs",
        ContactEmail = "api@acme.test",
        Website = "https://acme.test",
        LogoUrl = "https://acme.test/logo.png",
    };

    [Theory]
    [InlineData(Roles.SuperAdmin)]
    [InlineData(Roles.Admin)]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Developer)]
    public async Task Get_AnyRole_ReturnsProfile(string role)
    {
        var (_, actor) = await _db.CreateUserAsync(role);
        var result = await Organisation.GetAsync(actor);
        Assert.True(result.IsSuccess);
        Assert.False(string.IsNullOrEmpty(result.Value.Name));
    }

    [Fact]
    public async Task Get_NeverSaved_HasNoUpdateTime()
    {
        var (_, actor) = await _db.CreateUserAsync(Roles.Developer);

        Assert.Null((await Organisation.GetAsync(actor)).Value.UpdatedAt);
    }

    [Fact]
    public async Task Get_Anonymous_IsForbidden()
    {
        var anonymous = new Actor(Guid.Empty, "anonymous", []);
        Assert.IsType<ForbiddenError>((await Organisation.GetAsync(anonymous)).Error);
    }

    [Fact]
    public async Task Update_AsAdmin_PersistsTrimmedValuesAndClockTime()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        var request = Valid();
        request.Name = "  Acme APIs  ";
        request.Website = "";

        var result = await Organisation.UpdateAsync(admin, request);

        Assert.True(result.IsSuccess);
        Assert.Equal("Acme APIs", result.Value.Name);
        Assert.Null(result.Value.Website);
        Assert.Equal(_db.Clock.GetUtcNow(), result.Value.UpdatedAt);
        var reread = (await Organisation.GetAsync(admin)).Value;
        Assert.Equal(result.Value, reread);
    }

    [Fact]
    public async Task Update_AsAdmin_WritesAuditEntryInTheSameSave()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin);
        _db.Clock.Advance(TimeSpan.FromMinutes(5));

        var result = await Organisation.UpdateAsync(admin with { IpAddress = "10.1.2.3" }, Valid());

        await using var db = await _db.OpenAsync();
        var entry = await db.Audit.SingleAsync(a => a.Action == AuditActions.OrganisationUpdated && a.ActorId == admin.UserId);
        Assert.Equal(result.Value.UpdatedAt, entry.At);
        Assert.Equal(admin.Email, entry.ActorEmail);
        Assert.Equal("Acme APIs", entry.Target);
        Assert.Equal("10.1.2.3", entry.IpAddress);
    }

    [Theory]
    [InlineData(Roles.ReadOnly)]
    [InlineData(Roles.Developer)]
    public async Task Update_WithoutWriteRole_IsForbiddenAndChangesNothing(string role)
    {
        var (_, actor) = await _db.CreateUserAsync(role);
        var before = (await Organisation.GetAsync(actor)).Value;

        Assert.IsType<ForbiddenError>((await Organisation.UpdateAsync(actor, Valid())).Error);

        Assert.Equal(before, (await Organisation.GetAsync(actor)).Value);
        await using var db = await _db.OpenAsync();
        Assert.False(await db.Audit.AnyAsync(a => a.Action == AuditActions.OrganisationUpdated));
    }

    [Fact]
    public async Task Update_AsReadOnly_IsForbidden()
    {
        var (_, auditor) = await _db.CreateUserAsync(Roles.ReadOnly);
        Assert.IsType<ForbiddenError>((await Organisation.UpdateAsync(auditor, Valid())).Error);
    }

    [Fact]
    public async Task Update_AdminKeyWithoutAdminScope_IsForbidden()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Read, Scopes.Write]);
        Assert.IsType<ForbiddenError>((await Organisation.UpdateAsync(admin, Valid())).Error);
    }

    [Fact]
    public async Task Update_AdminKeyWithAdminScope_Succeeds()
    {
        var (_, admin) = await _db.CreateUserAsync(Roles.Admin, scopes: [Scopes.Admin]);
        Assert.True((await Organisation.UpdateAsync(admin, Valid())).IsSuccess);
    }

    [Theory]
    [InlineData("name", "", null, null, null)]
    [InlineData("name", "   ", null, null, null)]
    [InlineData("contactEmail", "Acme", "not-an-email", null, null)]
    [InlineData("website", "Acme", null, "javascript:alert(1)", null)]
    [InlineData("website", "Acme", null, "ftp://acme.test", null)]
    [InlineData("website", "Acme", null, "acme.test", null)]
    [InlineData("logoUrl", "Acme", null, null, "data:image/png;base64,AAAA")]
    [InlineData("logoUrl", "Acme", null, null, "javascript:alert(1)")]
    public async Task Update_InvalidField_IsValidationErrorOnThatField(string field, string name, string? email, string? website, string? logo)
    {
        var request = new UpdateOrganisation { Name = name, ContactEmail = email, Website = website, LogoUrl = logo };
        var result = await Organisation.UpdateAsync(await _db.RootAsync(), request);
        var error = Assert.IsType<ValidationError>(result.Error);
        Assert.Equal([field], error.Errors.Keys);
    }

    [Fact]
    public async Task Update_NameTooLong_IsValidationError()
    {
        var request = Valid();
        request.Name = new string('a', 201);
        var error = Assert.IsType<ValidationError>((await Organisation.UpdateAsync(await _db.RootAsync(), request)).Error);
        Assert.Contains("name", error.Errors.Keys);
    }

    [Fact]
    public async Task Update_Invalid_WritesNoAuditEntry()
    {
        await Organisation.UpdateAsync(await _db.RootAsync(), new UpdateOrganisation { Name = "" });
        await using var db = await _db.OpenAsync();
        Assert.False(await db.Audit.AnyAsync(a => a.Action == AuditActions.OrganisationUpdated));
    }

    [Fact]
    public async Task Update_NoRowYet_CreatesTheSingleProfile()
    {
        await using (var db = await _db.OpenAsync())
        {
            db.Organisation.RemoveRange(db.Organisation);
            await db.SaveChangesAsync();
        }

        Assert.True((await Organisation.UpdateAsync(await _db.RootAsync(), Valid())).IsSuccess);
        Assert.True((await Organisation.UpdateAsync(await _db.RootAsync(), Valid())).IsSuccess);

        await using var check = await _db.OpenAsync();
        Assert.Equal("Acme APIs", (await check.Organisation.SingleAsync()).Name);
    }
}
