using Portal.Core.Features.Products;

namespace Portal.Web.Features.Products;

/// <summary>One plan's preview in the editor: loading, its answer, or why there is none.</summary>
public sealed class PlanWhatIfState
{
    public bool Loading { get; set; }
    public PlanWhatIf? Result { get; set; }
    public string? Error { get; set; }
}
