#!/usr/bin/env bash
# Throughput of an API-key-authenticated call and of key verification against the bare health check, side by side
# on one warm server.
# Usage: bench/run.sh [seconds-per-run=10] [runs=5]
# Needs wrk and jq (apt-get install -y wrk jq). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10}
runs=${2:-5}
# The first free port from 5199: another benchmark may be running on this machine.
port=5199
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
work=$(mktemp -d)
db="$work/bench.db"
export Portal__Database__ConnectionString="Data Source=$db"
export Portal__Bootstrap__AdminEmail="bench@localhost"
export Portal__Bootstrap__AdminPassword="Bench#Pass123"
export Logging__LogLevel__Default=Warning
export DOTNET_TC_CallCountingDelayMs=0
# One key at 64 connections: the per-key limit stays on (its cost is part of what /me measures) but out of reach.
export Portal__Api__RateLimit__PermitsPerSecond=100000000 Portal__Api__RateLimit__Burst=100000000 \
  Portal__Api__RateLimit__AdminPermitsPerSecond=100000000

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: apt-get install -y jq" >&2; exit 1; }

dotnet publish Portal.Web -c Release -o "$work/app" --nologo -v quiet >/dev/null
app="$work/app/Portal.Web.dll"

key=$(cd "$work/app" && dotnet "$app" create-api-key --email bench@localhost --name bench --scopes read,write,admin 2>/dev/null | tail -n 1)
[[ "$key" == ptl_* ]] || { echo "could not create a key: $key" >&2; exit 1; }

(cd "$work/app" && ASPNETCORE_URLS="http://127.0.0.1:$port" exec dotnet "$app" >"$work/server.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
curl -fs -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/me" >/dev/null || { echo "authenticated call failed" >&2; exit 1; }

# A gateway's view: an application subscribed to a product whose plan is generous enough never to refuse during the run.
api() { # method path [json] -> response body; fails loudly (with the problem details) on an error status
  local args=(-sS --fail-with-body -X "$1" -H "Authorization: Bearer $key" -H "Content-Type: application/json")
  [ -z "${3:-}" ] || args+=(--data "$3")
  curl "${args[@]}" "http://127.0.0.1:$port/api/v1$2" || { echo "$1 $2 failed" >&2; exit 1; }
}
account=$(api POST /accounts '{"name":"Bench Inc"}' | jq -r .id)
created=$(api POST /applications "{\"name\":\"bench gateway client\",\"accountId\":\"$account\"}")
app_id=$(jq -r .id <<<"$created")
app_key=$(jq -r .key <<<"$created")
product=$(api POST /products '{"name":"Bench API","slug":"bench-api","published":true,"requiresApproval":false,
  "plans":[{"name":"Unlimited","type":"Subscription","rateLimit":1000000,"rateLimitWindow":"Second","quota":1000000000000,"quotaPeriod":"Month"}]}')
product_id=$(jq -r .id <<<"$product")
plan_id=$(jq -r '.plans[0].id' <<<"$product")
status=$(api POST /subscriptions "{\"applicationId\":\"$app_id\",\"productId\":\"$product_id\",\"planId\":\"$plan_id\"}" | jq -r .status)
[ "$status" = "APPROVED" ] || { echo "subscription is $status, not APPROVED" >&2; exit 1; }
export VERIFY_CALLER="$key" VERIFY_KEY="$app_key" VERIFY_PRODUCT="bench-api"
verify_code() { api POST /keys/verify "{\"key\":\"$app_key\",\"product\":\"bench-api\"}" | jq -r .code; }
[ "$(verify_code)" = "VALID" ] || { echo "verification of the subscribed key is not VALID" >&2; exit 1; }

run() { # url [header | lua script] -> "rps p99ms"
  local out
  case "${2:-}" in
    "") out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1") ;;
    *.lua) out=$(wrk -t2 -c64 -d"${duration}s" --latency -s "$2" "$1") ;;
    *) out=$(wrk -t2 -c64 -d"${duration}s" --latency -H "$2" "$1") ;;
  esac
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $1: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}

verify_lua="$(pwd)/bench/verify.lua"

echo "warming up (30 s)…" >&2
wrk -t2 -c64 -d10s "http://127.0.0.1:$port/healthz" >/dev/null
wrk -t2 -c64 -d10s -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/me" >/dev/null
wrk -t2 -c64 -d10s -s "$verify_lua" "http://127.0.0.1:$port/api/v1/keys/verify" >/dev/null

health=(); me=(); verify=()
for i in $(seq 1 "$runs"); do
  health+=("$(run "http://127.0.0.1:$port/healthz")")
  me+=("$(run "http://127.0.0.1:$port/api/v1/me" "Authorization: Bearer $key")")
  verify+=("$(run "http://127.0.0.1:$port/api/v1/keys/verify" "$verify_lua")")
  pair=$(awk -v h="${health[-1]%% *}" -v m="${me[-1]%% *}" -v v="${verify[-1]%% *}" 'BEGIN {printf "me %.0f%%, verify %.0f%% of healthz", 100*m/h, 100*v/h}')
  echo "run $i: healthz ${health[-1]} | me ${me[-1]} | verify ${verify[-1]}   ($pair; load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
# The plan's limits are far above what the run can reach, so every verification takes the full path to VALID. wrk's
# non-2xx check cannot show a refusal (RATE_LIMITED is HTTP 200 too); the subscribed key must still verify VALID now.
[ "$(verify_code)" = "VALID" ] || { echo "the subscribed key no longer verifies as VALID" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
column() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
h_rps=$(column 1 "${health[@]}"); h_p99=$(column 2 "${health[@]}")
m_rps=$(column 1 "${me[@]}"); m_p99=$(column 2 "${me[@]}")
v_rps=$(column 1 "${verify[@]}"); v_p99=$(column 2 "${verify[@]}")
percent() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }

echo
echo "| endpoint | requests/s (median of $runs) | p99 latency |"
echo "|---|---|---|"
echo "| GET /healthz | $h_rps | ${h_p99} ms |"
echo "| GET /api/v1/me (API key) | $m_rps | ${m_p99} ms |"
echo "| POST /api/v1/keys/verify (VALID) | $v_rps | ${v_p99} ms |"
echo
echo "authenticated / healthz throughput: $(percent "$m_rps" "$h_rps")"
echo "verify / healthz throughput: $(percent "$v_rps" "$h_rps")"
