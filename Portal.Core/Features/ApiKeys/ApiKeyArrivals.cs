using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Portal.Core.Domain;

namespace Portal.Core.Features.ApiKeys;

/// <summary>
/// Whenever a save adds a key or gives one a new secret, its hash leaves <see cref="ApiKeyCache"/>'s remembered misses,
/// before the save (so a lookup under way does not remember it) and after it (so one that read the database just before
/// the commit does not either): a key created here is never answered "not found" from memory. Whatever creates keys
/// (services, seeding, the CLI) goes through this; a save without keys costs one look at the change tracker.
/// </summary>
public sealed class ApiKeyArrivals(ApiKeyCache cache) : SaveChangesInterceptor
{
    private readonly ConditionalWeakTable<DbContext, List<string>> _saving = new();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Before(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Before(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        After(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        After(eventData.Context);
        return ValueTask.FromResult(result);
    }

    private void Before(DbContext? db)
    {
        if (db is null) return;
        List<string>? hashes = null;
        foreach (var entry in db.ChangeTracker.Entries<ApiKey>())
        {
            if (entry.State == EntityState.Added || (entry.State == EntityState.Modified && entry.Property(k => k.Hash).IsModified))
                (hashes ??= []).Add(entry.Entity.Hash);
        }
        if (hashes is null) return;
        foreach (var hash in hashes) cache.ForgetMissing(hash);
        _saving.AddOrUpdate(db, hashes);
    }

    private void After(DbContext? db)
    {
        if (db is null || !_saving.TryGetValue(db, out var hashes)) return;
        _saving.Remove(db);
        foreach (var hash in hashes) cache.ForgetMissing(hash);
    }
}
