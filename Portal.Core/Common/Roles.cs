namespace Portal.Core.Common;

public static class Roles
{
    public const string SuperAdmin = "super-admin";
    public const string Admin = "admin";
    public const string ReadOnly = "read-only";
    public const string Developer = "developer";

    public static readonly IReadOnlyList<string> All = [SuperAdmin, Admin, ReadOnly, Developer];
}

public static class Scopes
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Read, Write, Admin];
}
