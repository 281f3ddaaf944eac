#!/usr/bin/env bash
# Statements at scale: builds a month of SUBSCRIPTIONS subscriptions over ACCOUNTS accounts with CALLS calls in the
# quota counters, then times the admin month view (every account's statement lines as CSV, and the first page of the
# list) and one account's statement. Targets: all of them under 2 s, one account under 50 ms.
# Usage: bench/billing/run.sh [sqlite|postgresql] [subscriptions=10000] [accounts=2000] [calls=100000000] [runs=5]
# Smoke run: bench/billing/run.sh sqlite 200 40 1000000 2. Talks only to 127.0.0.1; needs curl, python3 (and psql).
set -euo pipefail
cd "$(dirname "$0")/../.."

provider=${1:-sqlite}
subscriptions=${2:-10000}
accounts=${3:-2000}
calls=${4:-100000000}
runs=${5:-5}
port=5299
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
work=$(mktemp -d)
export Portal__Bootstrap__AdminEmail="bench@localhost"
export Portal__Bootstrap__AdminPassword="Bench#Pass123"
export Logging__LogLevel__Default=Warning
export DOTNET_TC_CallCountingDelayMs=0
export Portal__Api__RateLimit__PermitsPerSecond=100000000 Portal__Api__RateLimit__Burst=100000000 \
  Portal__Api__RateLimit__AdminPermitsPerSecond=100000000
pgdb=""
if [ "$provider" = postgresql ]; then
  pgdb="portal_bench_billing_$$"
  pg="host=localhost port=5432 user=postgres password=${PGPASSWORD:-portal-test}"
  psql "$pg dbname=postgres" -q -c "CREATE DATABASE $pgdb"
  export Portal__Database__Provider=PostgreSQL
  # A throwaway database: the key ring may stay in clear.
  export Portal__DataProtection__KeysDirectory="$work/keys"
  export Portal__Database__ConnectionString="Host=localhost;Port=5432;Database=$pgdb;Username=postgres;Password=${PGPASSWORD:-portal-test}"
  target=(--postgres "$pg dbname=$pgdb")
else
  export Portal__Database__ConnectionString="Data Source=$work/bench.db"
  target=(--sqlite "$work/bench.db")
fi
server=""
cleanup() {
  [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  [ -z "$pgdb" ] || psql "$pg dbname=postgres" -q -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT
[ -z "${KEEP_LOG:-}" ] || trap 'cp "$work/server.log" /tmp/bench-billing-server.log 2>/dev/null; cleanup' EXIT

dotnet publish Portal.Web -c Release -o "$work/app" --nologo -v quiet >/dev/null
app="$work/app/Portal.Web.dll"
# Creating the key migrates the new database.
key=$(cd "$work/app" && dotnet "$app" create-api-key --email bench@localhost --name bench --scopes read,write,admin 2>"$work/key.log" | tail -n 1) \
  || { tail -n 5 "$work/key.log" >&2; exit 1; }
[[ "$key" == ptl_* ]] || { echo "could not create a key: $key" >&2; exit 1; }

month=$(date -u +%Y-%m)
echo "Loading $subscriptions subscriptions, $accounts accounts, $calls calls in $month ($provider)..."
account=$(python3 bench/billing/load.py --month "$month" --subscriptions "$subscriptions" --accounts "$accounts" --calls "$calls" "${target[@]}")

(cd "$work/app" && ASPNETCORE_URLS="http://127.0.0.1:$port" exec dotnet "$app" >"$work/server.log" 2>&1) &
server=$!
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done

base="http://127.0.0.1:$port/api/v1/billing/statements"
# The checks: the CSV has a line per subscription and its calls add up to what was loaded.
csv=$(curl -sS --fail-with-body -H "Authorization: Bearer $key" "$base?month=$month&format=csv")
lines=$(($(wc -l <<<"$csv") - 1))
sum=$(tail -n +2 <<<"$csv" | python3 -c 'import csv,sys; print(sum(int(r[12]) for r in csv.reader(sys.stdin)))')
echo "CSV: $lines lines (expected $subscriptions), $sum calls (expected $calls)"
[ "$lines" -eq "$subscriptions" ] && [ "$sum" -eq "$calls" ] || { echo "the statements do not match the loaded month" >&2; exit 1; }

time_ms() { # url -> milliseconds of one GET
  curl -fsS -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $key" "$1" | python3 -c 'import sys; print(round(float(sys.stdin.read()) * 1000))'
}
median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
measure() { # name url target-ms
  local all=""
  time_ms "$2" >/dev/null # warm-up
  for _ in $(seq 1 "$runs"); do all="$all $(time_ms "$2")"; done
  printf '%-44s median %6s ms   runs:%s   target < %s ms\n' "$1" "$(median <<<"${all# }")" "$all" "$3"
}
measure "month CSV, every account ($subscriptions lines)" "$base?month=$month&format=csv" 2000
measure "month list, first page of 50 accounts" "$base?month=$month" 2000
measure "one account's statement" "$base/$account/$month" 50
