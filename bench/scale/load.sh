#!/usr/bin/env bash
# Loads the scale data set (docs/scale.md) into a new Portal database, straight through the engine:
#   bench/scale/load.sh sqlite   /tmp/scale.db          [events=10M]
#   bench/scale/load.sh postgres 'Host=…;Database=…;…'  [events=10M]
# events: a count, with k or M for thousands or millions (200k, 10M, 100M).
# 100,000 users (one shared password hash), 100,000 accounts, 200,000 applications, 1,000,000 keys (300,000 personal),
# 200,000 registrations, then the events over the last 30 days (on PostgreSQL into a partition per day) and every
# rollup table the app reads. Sizes can be changed with
# USERS, ACCOUNTS, APPS, PERSONAL_KEYS, APP_KEYS, SUBSCRIPTIONS. The events spread flat over the keys (each key
# about as many calls as any other: the hard case for top lists); SKEW=1 skews them (key n in proportion to
# 1/sqrt(n)). Prints the time and rate of each step and, last, an admin API key (also written to <target>.key for
# SQLite, ./scale-postgres.key for PostgreSQL) for time.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
engine=${1:?sqlite or postgres}
target=${2:?database file or connection string}
events=${3:-10M}
case $events in
*[kK]) events=$(( ${events%?} * 1000 )) ;;
*M) events=$(( ${events%?} * 1000000 )) ;;
esac
[[ "$events" =~ ^[0-9]+$ && "$events" -gt 0 ]] || { echo "events: a count such as 200000, 200k, 10M or 100M" >&2; exit 1; }
users=${USERS:-100000} accounts=${ACCOUNTS:-100000} apps=${APPS:-200000}
personal_keys=${PERSONAL_KEYS:-300000} app_keys=${APP_KEYS:-700000} subscriptions=${SUBSCRIPTIONS:-200000}
skew=${SKEW:-0}
[[ "$skew" == 0 || "$skew" == 1 ]] || { echo "SKEW: 0 (flat) or 1 (skewed)" >&2; exit 1; }
admin=scale-admin@localhost
export Portal__Bootstrap__AdminEmail=$admin Portal__Bootstrap__AdminPassword='Scale#Pass123' Logging__LogLevel__Default=Warning

app="$here/.app/Portal.Web.dll"
if [[ ! -f "$app" || -n "${REPUBLISH:-}" ]]; then
    dotnet publish "$here/../../Portal.Web" -c Release -o "$here/.app" --nologo -v quiet >/dev/null
fi
# .NET ticks (UTC) of the start of the current hour: the events end there.
now=$(( ($(date -u +%s) / 3600 * 3600 + 62135596800) * 10000000 ))

step() { local name=$1; shift; local t0=$(date +%s.%N); "$@"; local t1=$(date +%s.%N); printf '%-28s %8.1f s\n' "$name" "$(echo "$t1 - $t0" | bc)"; }

case $engine in
sqlite)
    [[ -e "$target" ]] && { echo "$target exists: loading needs a new database" >&2; exit 1; }
    export Portal__Database__Provider=Sqlite Portal__Database__ConnectionString="Data Source=$target"
    q() { sqlite3 -bail -cmd ".output /dev/null" "$target" ".parameter set @users $users" ".parameter set @accounts $accounts" ".parameter set @apps $apps" \
        ".parameter set @personal_keys $personal_keys" ".parameter set @app_keys $app_keys" ".parameter set @subscriptions $subscriptions" \
        ".parameter set @events $events" ".parameter set @skew $skew" ".parameter set @now $now" ".parameter set @admin '$admin'" "$@"; }
    step "migrate" dotnet "$app" migrate >/dev/null
    step "users … registrations" q ".read $here/sqlite/load.sql"
    indexes=$(sqlite3 "$target" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'UsageEvents' AND sql IS NOT NULL")
    drops=$(sqlite3 "$target" "SELECT 'DROP INDEX \"' || name || '\";' FROM sqlite_master WHERE type = 'index' AND tbl_name = 'UsageEvents' AND sql IS NOT NULL")
    sqlite3 "$target" "$drops"
    t0=$(date +%s.%N)
    step "events ($events)" q ".read $here/sqlite/events.sql"
    step "events' indexes" sqlite3 "$target" "PRAGMA cache_size = -1000000; $indexes"
    t1=$(date +%s.%N)
    step "rollups" q ".read $here/sqlite/rollups.sql"
    sqlite3 "$target" "PRAGMA journal_mode = WAL;" >/dev/null
    keyfile="$target.key"
    ;;
postgres)
    # A bench database: the Data Protection key ring stays in clear in it (docs/security.md).
    export Portal__Database__Provider=PostgreSQL Portal__Database__ConnectionString="$target" Portal__DataProtection__AllowUnprotectedKeys=true
    # psql takes a libpq URI: PSQL_URI, or made from the .NET connection string's Host, Port, Database, Username, Password.
    uri=${PSQL_URI:-$(echo "$target" | tr ';' '\n' | awk -F= '
        { k = tolower($1); sub(/^[^=]*=/, ""); v[k] = $0 }
        END { printf "postgresql://%s:%s@%s:%s/%s", v["username"], v["password"], v["host"], (v["port"] ? v["port"] : 5432), v["database"] }')}
    q() { psql "$uri" -q -v ON_ERROR_STOP=1 -v users=$users -v accounts=$accounts -v apps=$apps -v personal_keys=$personal_keys \
        -v app_keys=$app_keys -v subscriptions=$subscriptions -v events=$events -v skew=$skew -v now="'$(date -u -d @$(( now / 10000000 - 62135596800 )) +%FT%TZ)'" \
        -v admin="'$admin'" "$@"; }
    step "migrate" dotnet "$app" migrate >/dev/null
    step "users … registrations" q -f "$here/postgres/load.sql"
    t0=$(date +%s.%N)
    step "events ($events) + indexes" q -f "$here/postgres/events.sql"
    t1=$(date +%s.%N)
    step "rollups" q -f "$here/postgres/rollups.sql"
    keyfile="./scale-postgres.key"
    ;;
*) echo "engine: sqlite or postgres" >&2; exit 1 ;;
esac
printf 'events loaded at %.0f per second (indexes included)\n' "$(echo "$events / ($t1 - $t0)" | bc -l)"
key=$(cd "$here/.app" && dotnet "$app" create-api-key --email "$admin" --name scale --scopes read,write,admin 2>/dev/null | tail -n 1)
echo "$key" > "$keyfile"
echo "admin key (in $keyfile): $key"
