#!/usr/bin/env python3
"""Fills a migrated Portal database with a billing month: accounts, applications, products with every plan type,
subscriptions APPROVED before the month, and quota counters (the numbers statements read) summing exactly to the
calls asked for. Monthly quotas get one row per subscription, daily ones a row per day.

Usage: load.py --month 2026-12 [--subscriptions 10000] [--accounts 2000] [--calls 100000000] [--seed 1]
               (--sqlite PATH | --postgres 'host=... dbname=... user=... password=...')
Prints the id of one account with subscriptions (for the one-account timing)."""
import argparse, csv, datetime as dt, io, json, os, random, sqlite3, subprocess, uuid

p = argparse.ArgumentParser()
p.add_argument("--month", required=True)
p.add_argument("--subscriptions", type=int, default=10000)
p.add_argument("--accounts", type=int, default=2000)
p.add_argument("--calls", type=int, default=100_000_000)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--sqlite")
p.add_argument("--postgres")
a = p.parse_args()
assert bool(a.sqlite) != bool(a.postgres), "one of --sqlite or --postgres"
rnd = random.Random(a.seed)
year, mon = map(int, a.month.split("-"))
start = dt.datetime(year, mon, 1, tzinfo=dt.timezone.utc)
end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=dt.timezone.utc)
days = (end - start).days
approved = start - dt.timedelta(days=20)
EPOCH_TICKS = 621355968000000000

def uid(): return uuid.UUID(int=rnd.getrandbits(128), version=4)

def when(t):  # SQLite: UTC ticks; PostgreSQL: timestamptz text
    return EPOCH_TICKS + int(t.timestamp()) * 10_000_000 if a.sqlite else t.isoformat()

def gid(u):  # EF Core on SQLite stores GUIDs as upper-case text
    return str(u).upper() if a.sqlite else str(u)

def money(v):  # EF Core writes a decimal inside JSON as a string on SQLite, as a number on PostgreSQL
    return None if v is None else (str(v) if a.sqlite else v)

def tiers(bands):
    return json.dumps([{"UpTo": up, "UnitPrice": money(price), "FlatFee": money(fee), "Price": None} for up, price, fee in bands])

# Five products, each with the four plan types (tiered in both modes): 25 plans.
products, plans = [], []
for i in range(5):
    pid = uid()
    slug = f"bench-billing-{i}-{pid.hex[:6]}"
    products.append((gid(pid), f"Bench Billing {i}", slug, True, False, when(approved), when(approved), 10485760, 30))
    for order, (name, kind, extra) in enumerate([
        ("Free", "Free", {}),
        ("Pro", "Subscription", {"FlatFee": "49.00"}),
        ("Metered", "Metered", {"UnitPrice": "0.0002", "MonthlyMinimum": "5.00"}),
        ("Graduated", "Tiered", {"TierMode": "Graduated", "PriceUnit": 1000,
                                  "Tiers": tiers([(10000, 0, None), (1000000, 0.5, None), (None, 0.2, 10)])}),
        ("Volume", "Tiered", {"TierMode": "Volume", "PriceUnit": 1000,
                               "Tiers": tiers([(100000, 0.4, None), (5000000, 0.3, None), (None, 0.1, None)])}),
    ]):
        plans.append({"Id": gid(uid()), "ProductId": gid(pid), "Name": name, "Type": kind, "RateLimitWindow": "Second",
                      "QuotaPeriod": "Month", "Order": order, "Tiers": extra.get("Tiers", "[]"), "Currency": "USD" if i < 4 else "EUR",
                      "FlatFee": extra.get("FlatFee"), "MonthlyMinimum": extra.get("MonthlyMinimum"),
                      "PriceUnit": extra.get("PriceUnit", 1), "TierMode": extra.get("TierMode", "Graduated"), "UnitPrice": extra.get("UnitPrice")})

accounts = [(gid(uid()), f"Bench account {n:05d}", "Team", when(approved), "Active") for n in range(a.accounts)]
applications, subscriptions, counters = [], [], []
weights = [rnd.paretovariate(1.2) for _ in range(a.subscriptions)]
scale = a.calls / sum(weights)
calls = [int(w * scale) for w in weights]
calls[-1] += a.calls - sum(calls)
for n in range(a.subscriptions):
    account = accounts[n % a.accounts][0]
    app_id = gid(uid())
    applications.append((app_id, account, f"bench-app-{n:05d}", gid(uid()), when(approved)))
    plan = plans[rnd.randrange(len(plans))]
    sid = uid()
    subscriptions.append((gid(sid), account, app_id, f"bench-app-{n:05d}", when(approved), plan["ProductId"], plan["Id"], "Approved", when(approved)))
    if n % 5 == 0:  # a daily quota: the month's calls spread over day rows
        share = [calls[n] // days] * days
        share[-1] += calls[n] - sum(share)
        counters += [(gid(sid), when(start + dt.timedelta(days=d)), c) for d, c in enumerate(share)]
    else:
        counters.append((gid(sid), when(start), calls[n]))

plan_cols = list(plans[0].keys())
tables = [
    ("Accounts", ["Id", "Name", "Kind", "CreatedAt", "Status"], accounts),
    ("Products", ["Id", "Name", "Slug", "Published", "RequiresApproval", "CreatedAt", "UpdatedAt", "MaxRequestBodyBytes", "UpstreamTimeoutSeconds"], products),
    ("Plans", plan_cols, [tuple(pl[c] for c in plan_cols) for pl in plans]),
    ("Applications", ["Id", "AccountId", "Name", "ReferenceId", "CreatedAt"], applications),
    ("Subscriptions", ["Id", "AccountId", "ApplicationId", "ApplicationName", "CreatedAt", "ProductId", "PlanId", "Status", "DecidedAt"], subscriptions),
    ("QuotaCounters", ["SubscriptionId", "PeriodStart", "Used"], counters),
]

if a.sqlite:
    db = sqlite3.connect(a.sqlite)
    for table, cols, rows in tables:
        db.executemany(f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) VALUES ({", ".join("?" for _ in cols)})',
                       [tuple(int(v) if isinstance(v, bool) else v for v in r) for r in rows])
    db.commit()
    db.execute("ANALYZE")
    db.close()
else:
    for table, cols, rows in tables:
        buf = io.StringIO()
        w = csv.writer(buf)
        for r in rows: w.writerow(["" if v is None else v for v in r])
        copy = f'\\copy "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) FROM STDIN WITH (FORMAT csv)'
        subprocess.run(["psql", a.postgres, "-q", "-v", "ON_ERROR_STOP=1", "-c", copy], input=buf.getvalue(), text=True, check=True)
    subprocess.run(["psql", a.postgres, "-q", "-c", "ANALYZE"], check=True)

print(accounts[0][0].lower())
