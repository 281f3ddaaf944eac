using System.Linq.Expressions;

// Features for FeatureDependencyTests to read: Left and Right use each other only where a reader might not look
// (a method named inside an expression tree, an async method's state machine); Down uses Left one way.

namespace Portal.Tests.Core.Architecture.Samples.Features.Left
{
    internal sealed record LeftNote(string Text);

    internal static class LeftService
    {
        public static Expression<Func<string, bool>> Wanted() => s => Right.RightRules.IsWanted(s);
    }
}

namespace Portal.Tests.Core.Architecture.Samples.Features.Right
{
    internal static class RightRules
    {
        public static bool IsWanted(string s) => s.Length > 0;

        public static async Task<int> CountAsync(IQueryable<string> items)
        {
            await Task.Yield();
            return items.Count(Left.LeftService.Wanted());
        }
    }
}

namespace Portal.Tests.Core.Architecture.Samples.Features.Down
{
    internal sealed class DownService
    {
        public Left.LeftNote? Note { get; init; }
    }
}
