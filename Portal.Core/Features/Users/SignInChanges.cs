namespace Portal.Core.Features.Users;

/// <summary>
/// Tells whoever keeps a user's session alive (the web host's Blazor circuits) that the user's security stamp changed
/// (roles, status, password, deletion), so a session that still carries the old roles is re-checked now rather than
/// at its next periodic check. In-process only: the cookie check against the stored stamp is what survives restarts.
/// </summary>
public sealed class SignInChanges
{
    public event Action<Guid>? StampChanged;

    public void Notify(Guid userId) => StampChanged?.Invoke(userId);
}
