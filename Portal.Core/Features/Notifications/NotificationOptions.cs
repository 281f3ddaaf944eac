namespace Portal.Core.Features.Notifications;

/// <summary>Settings under <c>Portal:Notifications</c>: when the key expiry notices go out.</summary>
public sealed class NotificationOptions
{
    /// <summary>A key expiring within this many days gets its "expires soon" notice (<c>Portal:Notifications:ExpiringDays</c>).</summary>
    public int ExpiringDays { get; set; } = 7;

    /// <summary>How often the expiry sweep runs (<c>Portal:Notifications:SweepMinutes</c>).</summary>
    public int SweepMinutes { get; set; } = 15;
}
