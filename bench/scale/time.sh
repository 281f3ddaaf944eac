#!/usr/bin/env bash
# Median server time of 5 warm calls (after one untimed) per endpoint and per page, against a database loaded by load.sh:
#   bench/scale/time.sh sqlite   /tmp/scale.db
#   bench/scale/time.sh postgres 'Host=…;Database=…;…'   (the key from ./scale-postgres.key)
# Starts the published app (bench/scale/.app) on a free loopback port. Endpoints (with the admin key): server time =
# curl's time to first byte less its time to send the request (connect and transfer excluded). Pages (signed in as the
# loader's admin, ADMIN_EMAIL / ADMIN_PASSWORD): the prerendered page's whole answer less the time to send the request,
# so data streamed after the first bytes counts. Prints one line each: milliseconds, path.
# ONLY=summary times the usage summaries alone (docs/scale.md, "Top lists"); APP=<dir> runs another published build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
engine=${1:?sqlite or postgres}
target=${2:?database file or connection string}
case $engine in
sqlite) export Portal__Database__Provider=Sqlite Portal__Database__ConnectionString="Data Source=$target"; key=$(cat "$target.key") ;;
postgres) export Portal__Database__Provider=PostgreSQL Portal__Database__ConnectionString="$target" Portal__DataProtection__AllowUnprotectedKeys=true
    key=$(cat ./scale-postgres.key) ;;
*) echo "engine: sqlite or postgres" >&2; exit 1 ;;
esac
export Logging__LogLevel__Default=Warning
port=5299
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
base="http://127.0.0.1:$port"
(cd "${APP:-$here/.app}" && exec dotnet Portal.Web.dll --urls "$base") >/tmp/scale-app-$port.log 2>&1 &
pid=$!
jar=$(mktemp)
trap 'kill $pid 2>/dev/null; rm -f "$jar"' EXIT
for _ in $(seq 120); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 1; done

# The loader's deterministic ids: user 1's first key, application 1, product 1.
id() { printf '%08X-0000-4000-8000-%012X' "$1" "$2"; }
key1=$(id 7 1) app1=$(id 3 1) product1=$(id 5 1)

call() { curl -s -o /dev/null -H "Authorization: Bearer $key" -w '%{time_starttransfer} %{time_pretransfer}\n' "$base$1"; }
page() { curl -s -o /dev/null -b "$jar" -w '%{time_total} %{time_pretransfer}\n' "$base$1"; }
median() {
    local how=${2:-call}
    $how "$1" >/dev/null
    for _ in 1 2 3 4 5; do $how "$1"; done | awk '{ printf "%.1f\n", ($1 - $2) * 1000 }' | sort -n | sed -n 3p
}
time_path() { printf '%8s ms  %s\n' "$(median "$1")" "$1"; }
time_page() { printf '%8s ms  %s (page)\n' "$(median "$1" page)" "$1"; }
# The request log's next page: the cursor of the first page with the same filters.
time_next() {
    local cursor
    cursor=$(curl -s -H "Authorization: Bearer $key" "$base$1" | jq -r '.nextCursor // empty')
    [[ -z "$cursor" ]] && { printf '%8s     %s (one page only)\n' "-" "$1 next"; return; }
    local sep='?'; [[ "$1" == *\?* ]] && sep='&'
    time_path "$1${sep}cursor=$cursor"
}

from7=$(date -u -d '7 days ago' +%FT%TZ) to1=$(date -u -d '1 day ago' +%FT%TZ)
# The overview's windows (the 24 hours and 30 days the /usage page asks for, the default 7 days), whose top lists have a
# precomputed part, and one window that is none of them (30 whole days ending today at 00:00).
summaries=("/api/v1/usage/summary?from=$(date -u -d '23 hours ago' +%FT%H:00:00Z)" "/api/v1/usage/summary"
    "/api/v1/usage/summary?from=$(date -u -d '29 days ago' +%FT00:00:00Z)"
    "/api/v1/usage/summary?from=$(date -u -d '30 days ago' +%FT00:00:00Z)&to=$(date -u +%FT00:00:00Z)")
# Until the precomputed parts are there (the app computes them when it starts): the default summary then has no topBounds.
# An old build has no such field and passes at once.
for _ in $(seq 120); do
    curl -s -H "Authorization: Bearer $key" "$base/api/v1/usage/summary" | jq -e 'has("topBounds") and .topBounds != null' >/dev/null || break
    sleep 1
done
if [[ "${ONLY:-}" == summary ]]; then
    for p in "${summaries[@]}"; do time_path "$p"; done
    exit 0
fi
for p in "/healthz" "${summaries[@]}" \
    "/api/v1/users" "/api/v1/users?search=user4242" "/api/v1/users?role=read-only" \
    "/api/v1/api-keys" "/api/v1/api-keys?sort=name" "/api/v1/api-keys?sort=-lastUsed" "/api/v1/api-keys?search=key%204242" "/api/v1/api-keys?status=revoked" "/api/v1/api-keys/metrics" \
    "/api/v1/applications" "/api/v1/applications?sort=-createdAt" "/api/v1/applications?search=App%204242" \
    "/api/v1/accounts" "/api/v1/accounts?search=Account%204242" \
    "/api/v1/subscriptions" "/api/v1/subscriptions?status=WAITING" "/api/v1/subscriptions?sort=product" "/api/v1/subscriptions?search=App%204242" \
    "/api/v1/audit"; do
    time_path "$p"
done
for f in "" "status=404" "status=5xx" "status=error" "keyId=$key1" "applicationId=$app1" "productId=$product1" \
    "from=$from7" "to=$to1" "search=applications" "search=verify&status=4xx"; do
    p="/api/v1/usage/requests${f:+?$f}"
    time_path "$p"
    time_next "$p"
done

# Pages: sign in through the login form (its hidden fields, the antiforgery token among them), then each page as a browser
# first asks for it (prerendered).
form=$(curl -s -c "$jar" "$base/account/login" | grep -o '<input[^>]*type="hidden"[^>]*>' |
    sed -E 's/.*name="([^"]*)".*value="([^"]*)".*/--data-urlencode \1=\2/')
# shellcheck disable=SC2086
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" $form --data-urlencode "Input.Email=${ADMIN_EMAIL:-scale-admin@localhost}" \
    --data-urlencode "Input.Password=${ADMIN_PASSWORD:-Scale#Pass123}" "$base/account/login")
[[ "$status" == 302 ]] || { echo "sign-in answered $status: pages not timed" >&2; exit 1; }
for p in "/" "/usage" "/usage?period=24h" "/usage?period=30d" "/usage/requests" "/usage/requests?status=error" "/api-keys" \
    "/applications" "/portal-apps" "/accounts" "/users" "/subscriptions" "/audit" "/products"; do
    time_page "$p"
done
