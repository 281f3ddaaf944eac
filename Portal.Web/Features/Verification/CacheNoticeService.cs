using Portal.Core.Features.Cluster;

namespace Portal.Web.Features.Verification;

/// <summary>Runs <see cref="CacheNotices"/> for the host's lifetime: this instance's changes out, the others' in.</summary>
public sealed class CacheNoticeService(CacheNotices notices) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => notices.RunAsync(stoppingToken);
}
