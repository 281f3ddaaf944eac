using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Portal.Core.Domain;
using Portal.Core.Features.Accounts;
using Portal.Core.Features.ApiKeys;
using Portal.Core.Features.Applications;
using Portal.Core.Features.Gateway;
using Portal.Core.Features.Products;
using Portal.Core.Features.Subscriptions;
using Portal.Core.Features.Users;
using Portal.Core.Features.Verification;

namespace Portal.Core.Data;

/// <summary>
/// Keeps <see cref="ApiKeyCache"/>, <see cref="VerificationCache"/>, <see cref="GatewayRoutes"/> and
/// <see cref="SignInChanges"/> right from what is saved, so no service has to
/// remember to: before a save it reads the change tracker for the rows the caches are built from, and once the save
/// has committed (at the end of the ambient transaction, if there is one; never after a rollback) it drops what those
/// rows made stale, here and, through the caches' <c>Changed</c> events, on every other instance. Bulk statements
/// (<c>ExecuteUpdate</c>, <c>ExecuteDelete</c>) bypass the change tracker: they are seen by the table they write, and
/// drop all of what the caches read from it (a key's regeneration, the one such statement on keys, drops every key).
/// A save that touches none of these rows (usage batches, quota counters, the hot path) costs one look at the tracker.
/// </summary>
public sealed class CacheInvalidation(ApiKeyCache keys, VerificationCache verification, SignInChanges signIns, IServiceProvider services)
    : SaveChangesInterceptor, IDbTransactionInterceptor, IDbCommandInterceptor
{
    // The routes read through the context factory whose options hold this interceptor: taken when first dropped, not
    // in the constructor, or the container would go round in a circle.
    private GatewayRoutes? _routes;
    private GatewayRoutes Routes => _routes ??= services.GetRequiredService<GatewayRoutes>();

    // What a gateway route carries (GatewayRoutes.LoadAsync): an edit of anything else leaves the routes as they are.
    private static readonly string[] RouteProperties =
    [
        nameof(ApiProduct.Slug), nameof(ApiProduct.Published), nameof(ApiProduct.UpstreamUrl), nameof(ApiProduct.UpstreamTimeoutSeconds),
        nameof(ApiProduct.MaxRequestBodyBytes), nameof(ApiProduct.UpstreamCredentialHeader), nameof(ApiProduct.UpstreamCredentialProtected),
    ];

    // What a user's keys carry (KeyIdentity, KeyHolders.UserKeysWork), and the stamp Identity moves on every
    // security-relevant change (roles, status, password): a save that changes only these re-reads the owner's keys.
    private static readonly string[] OwnerProperties =
        [nameof(PortalUser.Status), nameof(PortalUser.EmailConfirmed), nameof(PortalUser.Email), nameof(PortalUser.DisplayName), nameof(PortalUser.SecurityStamp)];

    // What an application key's identity and its "keys work" rule read (KeyHolders.AccountsWhoseKeysWork).
    private static readonly string[] ApplicationProperties = [nameof(Application.AccountId), nameof(Application.Name)];
    private static readonly string[] AccountProperties = [nameof(Account.Status), nameof(Account.Kind)];

    /// <summary>Facts waiting for their transaction to commit, per context (a context is used by one caller at a time).</summary>
    private readonly ConditionalWeakTable<DbContext, StaleEntries> _pending = new();

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } db) Collect(db);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } db) Collect(db);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        PublishUnlessInTransaction(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        PublishUnlessInTransaction(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => ForgetUnlessInTransaction(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        ForgetUnlessInTransaction(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => ForgetUnlessInTransaction(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        ForgetUnlessInTransaction(eventData.Context);
        return Task.CompletedTask;
    }

    // A save's own (implicit) transaction commits before SavedChanges runs; an explicit one commits when its owner says.
    void IDbTransactionInterceptor.TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Publish(eventData.Context);

    Task IDbTransactionInterceptor.TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        Publish(eventData.Context);
        return Task.CompletedTask;
    }

    void IDbTransactionInterceptor.TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    Task IDbTransactionInterceptor.TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    int IDbCommandInterceptor.NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Bulk(command, eventData, result);
        return result;
    }

    ValueTask<int> IDbCommandInterceptor.NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken)
    {
        Bulk(command, eventData, result);
        return ValueTask.FromResult(result);
    }

    /// <summary>Reads what the save is about to write, before it is written (after it, deleted rows are gone from the tracker).</summary>
    private void Collect(DbContext db)
    {
        StaleEntries? stale = null;
        foreach (var entry in Tracked(db))
        {
            switch (entry.Entity)
            {
                case ApiKey key when IsChangedOrGone(entry):
                    // A new key needs nothing: ApiKeyArrivals keeps its hash from being answered "not found".
                    Stale(db, ref stale).Keys.Add(key.Id);
                    break;
                case PortalUser user when entry.State == EntityState.Deleted || Changed(entry, OwnerProperties):
                    Stale(db, ref stale).Holders.Add(user.Id);
                    // Identity moves the stamp on every security-relevant change: sessions of this user re-check at once.
                    if (entry.State == EntityState.Deleted || Changed(entry, nameof(PortalUser.SecurityStamp))) stale!.SignIns.Add(user.Id);
                    // A person account's application keys work only once its member confirmed their email.
                    if (entry.State == EntityState.Deleted || Changed(entry, nameof(PortalUser.EmailConfirmed))) stale!.Verification = true;
                    break;
                case IdentityUserRole<Guid> role when entry.State is EntityState.Added or EntityState.Deleted or EntityState.Modified:
                    Stale(db, ref stale).Holders.Add(role.UserId);
                    break;
                case Application app when entry.State == EntityState.Deleted || Changed(entry, ApplicationProperties):
                    Stale(db, ref stale).Holders.Add(app.Id);
                    stale!.Verification = true;
                    break;
                case Account account when entry.State == EntityState.Deleted || Changed(entry, AccountProperties):
                    Stale(db, ref stale).Holders.Add(account.Id);
                    stale!.Verification = true;
                    break;
                case AccountMember member when entry.State is EntityState.Added or EntityState.Deleted or EntityState.Modified:
                    Stale(db, ref stale).Holders.Add(member.AccountId);
                    stale!.Verification = true;
                    break;
                case ApiProduct when entry.State is EntityState.Added or EntityState.Deleted || Changed(entry, RouteProperties):
                    Stale(db, ref stale).Verification = true;
                    stale!.Gateway = true;
                    break;
                // A new product's slug may be cached as "no such product"; a new approved subscription as "none".
                case ApiProduct or Plan or Subscription when entry.State is EntityState.Added or EntityState.Modified or EntityState.Deleted:
                    Stale(db, ref stale).Verification = true;
                    break;
            }
        }
    }

    /// <summary>A bulk statement on a table the caches read: its rows are unknown, so the table decides.</summary>
    private void Bulk(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        if (eventData.CommandSource is not (CommandSource.ExecuteUpdate or CommandSource.ExecuteDelete) || result == 0
            || eventData.Context is not { } db || TablesOf(db.Model).Find(command.CommandText) is not { } table) return;
        var stale = Pending(db);
        switch (table.Kind)
        {
            case TableKind.ApiKeys:
                stale.AllKeys = true;
                break;
            case TableKind.KeyHolders:
                stale.AllKeys = true;
                stale.Verification = true;
                break;
            case TableKind.Verification:
                stale.Verification = true;
                break;
            case TableKind.Products:
                stale.Verification = true;
                stale.Gateway = true;
                break;
        }
        // Outside a transaction the statement has committed already.
        if (db.Database.CurrentTransaction is null) Publish(db);
    }

    private StaleEntries Stale(DbContext db, ref StaleEntries? stale) => stale ??= Pending(db);

    private StaleEntries Pending(DbContext db) => _pending.GetValue(db, static _ => new StaleEntries());

    private void PublishUnlessInTransaction(DbContext? db)
    {
        if (db is not null && db.Database.CurrentTransaction is null) Publish(db);
    }

    private void ForgetUnlessInTransaction(DbContext? db)
    {
        // Inside a transaction the failed save's statements may still be committed by their owner: decided at the end.
        if (db is not null && db.Database.CurrentTransaction is null) Forget(db);
    }

    private void Forget(DbContext? db)
    {
        if (db is not null) _pending.Remove(db);
    }

    private void Publish(DbContext? db)
    {
        if (db is null || !_pending.TryGetValue(db, out var stale)) return;
        _pending.Remove(db);
        if (stale.Verification) verification.Invalidate();
        if (stale.Gateway) Routes.Reload();
        foreach (var id in stale.SignIns) signIns.Notify(id);
        if (stale.AllKeys)
        {
            keys.InvalidateAll();
            return;
        }
        foreach (var id in stale.Keys) keys.InvalidateKey(id);
        foreach (var id in stale.Holders) keys.InvalidateHolder(id);
    }

    /// <summary>
    /// The tracked entries, each of a type the caches read brought up to date (SaveChanges detects changes only after
    /// this interceptor runs), without a full change detection: a usage batch tracks thousands of rows.
    /// </summary>
    private static List<EntityEntry> Tracked(DbContext db)
    {
        var tracker = db.ChangeTracker;
        var detect = tracker.AutoDetectChangesEnabled;
        tracker.AutoDetectChangesEnabled = false;
        try
        {
            var entries = new List<EntityEntry>();
            foreach (var entry in tracker.Entries())
            {
                if (entry.Entity is not (ApiKey or PortalUser or IdentityUserRole<Guid> or Application or Account or AccountMember or ApiProduct or Plan or Subscription))
                    continue;
                if (detect && entry.State is EntityState.Unchanged or EntityState.Modified) entry.DetectChanges();
                entries.Add(entry);
            }
            return entries;
        }
        finally
        {
            tracker.AutoDetectChangesEnabled = detect;
        }
    }

    private static bool IsChangedOrGone(EntityEntry entry) => entry.State is EntityState.Modified or EntityState.Deleted;

    private static bool Changed(EntityEntry entry, params string[] properties)
    {
        if (entry.State != EntityState.Modified) return false;
        foreach (var name in properties)
        {
            // Identity's store marks every property modified on an update: only a value that differs counts.
            var property = entry.Property(name);
            if (property.IsModified && !Equals(property.OriginalValue, property.CurrentValue)) return true;
        }
        return false;
    }

    private static readonly ConditionalWeakTable<IModel, CachedTables> Tables = new();

    private static CachedTables TablesOf(IModel model) => Tables.GetValue(model, static m => new CachedTables(m));

    private enum TableKind
    {
        ApiKeys,
        KeyHolders,
        Verification,
        Products,
    }

    /// <summary>The tables the caches are built from, as the model names them.</summary>
    private sealed class CachedTables
    {
        private readonly List<(string Name, TableKind Kind)> _tables = [];

        public CachedTables(IModel model)
        {
            Add(model, typeof(ApiKey), TableKind.ApiKeys);
            foreach (var type in new[] { typeof(PortalUser), typeof(IdentityUserRole<Guid>), typeof(Application), typeof(Account), typeof(AccountMember) })
                Add(model, type, TableKind.KeyHolders);
            Add(model, typeof(ApiProduct), TableKind.Products);
            foreach (var type in new[] { typeof(Plan), typeof(Subscription) })
                Add(model, type, TableKind.Verification);
        }

        private void Add(IModel model, Type type, TableKind kind)
        {
            if (model.FindEntityType(type)?.GetTableName() is { } table) _tables.Add((table, kind));
        }

        /// <summary>The table an <c>UPDATE "T" …</c> or <c>DELETE FROM "T" …</c> writes, after any tag comment lines.</summary>
        public (string Name, TableKind Kind)? Find(string sql)
        {
            var text = sql.AsSpan();
            while (text.StartsWith("--"))
            {
                var end = text.IndexOf('\n');
                if (end < 0) return null;
                text = text[(end + 1)..];
            }
            text = text.TrimStart();
            if (text.StartsWith("UPDATE ", StringComparison.OrdinalIgnoreCase)) text = text[7..];
            else if (text.StartsWith("DELETE FROM ", StringComparison.OrdinalIgnoreCase)) text = text[12..];
            else return null;
            text = text.TrimStart();
            var space = text.IndexOfAny(' ', '\n', '\r');
            var name = (space < 0 ? text : text[..space]).Trim('"');
            foreach (var table in _tables)
                if (name.Equals(table.Name, StringComparison.Ordinal)) return table;
            return null;
        }
    }

    /// <summary>What one context's saves made stale, until its transaction commits.</summary>
    private sealed class StaleEntries
    {
        public HashSet<Guid> Keys { get; } = [];

        /// <summary>Users, applications and accounts whose keys' cached identities may be stale.</summary>
        public HashSet<Guid> Holders { get; } = [];

        /// <summary>Users whose security stamp changed, or who are gone.</summary>
        public HashSet<Guid> SignIns { get; } = [];

        public bool AllKeys { get; set; }
        public bool Verification { get; set; }
        public bool Gateway { get; set; }
    }
}
