using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Core.Common;
using Portal.Core.Features.ApiKeys;
using Portal.Tests.Support;
using Portal.Web.Infrastructure;
using Portal.Web.Authentication;

namespace Portal.Tests.Web.Api;

/// <summary>
/// The API's own policy path decides as the framework would: a key with the permission passes, a key without it is
/// refused (403), no key or a refused key is challenged (401); every other policy goes to the framework's evaluator.
/// </summary>
public sealed class ApiKeyPolicyEvaluatorTests
{
    private static readonly KeyIdentity DeveloperKey =
        new(Guid.NewGuid(), Guid.NewGuid(), "dev@portal.test", "Dev", [Roles.Developer], [Scopes.Read, Scopes.Write]);

    private static AuthorizationPolicy ApiPolicy(params Permission[] anyOf) =>
        new AuthorizationPolicyBuilder(ApiKeyDefaults.Scheme).RequireAuthenticatedUser()
            .AddRequirements(new PermissionRequirement(anyOf)).Build();

    private readonly FakeAuthenticator _authenticator = new();
    private readonly RecordingLogger _log = new();
    private readonly RecordingFrameworkEvaluator _framework = new();

    private ApiKeyPolicyEvaluator Evaluator() => new(_authenticator, _log);

    private DefaultHttpContext Context()
    {
        var services = new ServiceCollection().AddSingleton<PolicyEvaluator>(_framework).BuildServiceProvider();
        return new DefaultHttpContext { RequestServices = services };
    }

    [Fact]
    public async Task KeyHoldingThePermission_IsAuthenticatedAndAuthorized()
    {
        _authenticator.Result = Success(DeveloperKey);
        var context = Context();
        var policy = ApiPolicy(Permission.Self);

        var authenticated = await Evaluator().AuthenticateAsync(policy, context);
        var authorized = await Evaluator().AuthorizeAsync(policy, authenticated, context, null);

        Assert.True(authenticated.Succeeded);
        Assert.Same(authenticated.Principal, context.User);
        Assert.Equal(DeveloperKey.KeyId, context.User.ToActor().KeyId);
        Assert.True(authorized.Succeeded);
        Assert.Equal(0, _framework.Calls);
    }

    [Fact]
    public async Task KeyWithoutThePermission_IsForbiddenNotChallenged()
    {
        _authenticator.Result = Success(DeveloperKey);
        var context = Context();
        var policy = ApiPolicy(Permission.UsersRead);

        var authorized = await Evaluator().AuthorizeAsync(policy, await Evaluator().AuthenticateAsync(policy, context), context, null);

        Assert.True(authorized.Forbidden);
        Assert.False(authorized.Challenged);
        Assert.IsType<PermissionRequirement>(Assert.Single(authorized.AuthorizationFailure!.FailedRequirements));
        Assert.Contains(_log.Lines, l => l.Contains(nameof(Permission.UsersRead)));
    }

    [Fact]
    public async Task AnyOneOfSeveralPermissions_IsEnough()
    {
        _authenticator.Result = Success(DeveloperKey);
        var context = Context();
        var policy = ApiPolicy(Permission.UsersRead, Permission.Self);

        var authorized = await Evaluator().AuthorizeAsync(policy, await Evaluator().AuthenticateAsync(policy, context), context, null);

        Assert.True(authorized.Succeeded);
    }

    [Fact]
    public async Task NoKey_IsChallengedAsAnonymous()
    {
        _authenticator.Result = AuthenticateResult.NoResult();
        var context = Context();
        var policy = ApiPolicy(Permission.Self);

        var authenticated = await Evaluator().AuthenticateAsync(policy, context);
        var authorized = await Evaluator().AuthorizeAsync(policy, authenticated, context, null);

        Assert.False(authenticated.Succeeded);
        Assert.False(context.User.Identity!.IsAuthenticated);
        Assert.True(authorized.Challenged);
        Assert.Empty(_log.Lines);
    }

    [Fact]
    public async Task RefusedKey_IsChallenged_AndTheReasonLoggedWithoutTheKey()
    {
        const string presented = "ptl_this-is-the-presented-secret";
        _authenticator.Result = AuthenticateResult.Fail("API key refused: Revoked.");
        var context = Context();
        context.Request.Headers.Authorization = $"Bearer {presented}";
        var policy = ApiPolicy(Permission.Self);

        var authenticated = await Evaluator().AuthenticateAsync(policy, context);
        var authorized = await Evaluator().AuthorizeAsync(policy, authenticated, context, null);

        Assert.False(authenticated.Succeeded);
        Assert.False(context.User.Identity!.IsAuthenticated);
        Assert.True(authorized.Challenged);
        var line = Assert.Single(_log.Lines);
        Assert.Contains("Revoked", line);
        Assert.DoesNotContain(presented, line);
    }

    public static TheoryData<string> OtherPolicies => new() { "cookie", "extra requirement", "two schemes" };

    [Theory]
    [MemberData(nameof(OtherPolicies))]
    public async Task AnyOtherPolicy_GoesToTheFrameworksEvaluator(string kind)
    {
        var policy = kind switch
        {
            "cookie" => new AuthorizationPolicyBuilder(IdentityConstants.ApplicationScheme).RequireAuthenticatedUser().Build(),
            "extra requirement" => new AuthorizationPolicyBuilder(ApiKeyDefaults.Scheme).RequireRole(Roles.Admin).Build(),
            _ => new AuthorizationPolicyBuilder(ApiKeyDefaults.Scheme, IdentityConstants.ApplicationScheme).RequireAuthenticatedUser().Build(),
        };
        var context = Context();

        var authenticated = await Evaluator().AuthenticateAsync(policy, context);
        await Evaluator().AuthorizeAsync(policy, authenticated, context, null);

        Assert.Equal(2, _framework.Calls);
        Assert.Equal(0, _authenticator.Calls);
    }

    [Fact]
    public void TheWebApp_EvaluatesPoliciesWithIt()
    {
        using var factory = new PortalApiFactory();
        using var scope = factory.Services.CreateScope();
        Assert.IsType<ApiKeyPolicyEvaluator>(scope.ServiceProvider.GetRequiredService<IPolicyEvaluator>());
        // The framework's evaluator stays available for every policy that is not the API's.
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<PolicyEvaluator>());
    }

    private static AuthenticateResult Success(KeyIdentity key) =>
        AuthenticateResult.Success(new AuthenticationTicket(ApiKeyAuthenticator.PrincipalFor(key, ApiKeyDefaults.Scheme), ApiKeyDefaults.Scheme));

    private sealed class FakeAuthenticator : IApiKeyAuthenticator
    {
        public AuthenticateResult Result { get; set; } = AuthenticateResult.NoResult();
        public int Calls { get; private set; }

        public Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string scheme)
        {
            Calls++;
            return Task.FromResult(Result);
        }
    }

    /// <summary>The framework's evaluator, counting what is sent to it (its answers are not under test here).</summary>
    private sealed class RecordingFrameworkEvaluator() : PolicyEvaluator(null!)
    {
        public int Calls { get; private set; }

        public override Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context)
        {
            Calls++;
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        public override Task<PolicyAuthorizationResult> AuthorizeAsync(
            AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
        {
            Calls++;
            return Task.FromResult(PolicyAuthorizationResult.Challenge());
        }
    }

    private sealed class RecordingLogger : ILogger<ApiKeyPolicyEvaluator>
    {
        public List<string> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }
}
