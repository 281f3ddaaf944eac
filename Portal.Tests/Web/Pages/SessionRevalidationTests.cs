using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Common;
using Portal.Core.Features.Users;
using Portal.Tests.Support;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Tests.Web.Pages;

/// <summary>A live Blazor circuit's authentication state when its user's roles or status change.</summary>
public sealed class SessionRevalidationTests(PortalApiFactory factory) : IClassFixture<PortalApiFactory>
{
    private async Task<(UserDto User, RevalidatingIdentityStateProvider Circuit, Task<AuthenticationState> Changed)> SignedInCircuitAsync(string role)
    {
        var user = (await factory.Get<UserService>().CreateAsync(Actor.System, new CreateUser
        {
            Email = $"circuit-{Guid.NewGuid():N}@portal.test", DisplayName = "Circuit", Password = "Passw0rd!", Roles = [role],
        })).Value;
        await using var scope = factory.Services.CreateAsyncScope();
        var identity = await scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>().FindByIdAsync(user.Id.ToString());
        var principal = await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<PortalUser>>().CreateAsync(identity!);
        var circuit = ActivatorUtilities.CreateInstance<RevalidatingIdentityStateProvider>(factory.Services);
        circuit.SetAuthenticationState(Task.FromResult(new AuthenticationState(principal)));
        var changed = new TaskCompletionSource<AuthenticationState>(TaskCreationOptions.RunContinuationsAsynchronously);
        circuit.AuthenticationStateChanged += async task => changed.TrySetResult(await task);
        return (user, circuit, changed.Task);
    }

    [Fact]
    public async Task OwnRolesLowered_CircuitSignsOutAtOnce()
    {
        var (user, circuit, changed) = await SignedInCircuitAsync(Roles.Admin);
        using var disposeCircuit = circuit;

        var self = new Actor(user.Id, user.Email, [Roles.Admin]);
        Assert.True((await factory.Get<UserService>().UpdateAsync(self, user.Id, new UpdateUser { Roles = [Roles.ReadOnly] })).IsSuccess);

        var state = await changed.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(state.User.Identity?.IsAuthenticated);
    }

    [Fact]
    public async Task AnotherUsersRolesChanged_CircuitStaysSignedIn()
    {
        var (_, circuit, changed) = await SignedInCircuitAsync(Roles.Admin);
        using var disposeCircuit = circuit;
        var (other, otherCircuit, _) = await SignedInCircuitAsync(Roles.Developer);
        using var disposeOther = otherCircuit;

        Assert.True((await factory.Get<UserService>().UpdateAsync(Actor.System, other.Id, new UpdateUser { Roles = [Roles.ReadOnly] })).IsSuccess);

        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.False(changed.IsCompleted);
        Assert.True((await circuit.GetAuthenticationStateAsync()).User.Identity?.IsAuthenticated);
    }

    [Fact]
    public async Task DisplayNameOnlyChanged_CircuitStaysSignedIn()
    {
        var (user, circuit, changed) = await SignedInCircuitAsync(Roles.Admin);
        using var disposeCircuit = circuit;

        var self = new Actor(user.Id, user.Email, [Roles.Admin]);
        Assert.True((await factory.Get<UserService>().UpdateAsync(self, user.Id, new UpdateUser { DisplayName = "Renamed" })).IsSuccess);

        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.False(changed.IsCompleted);
    }
}
