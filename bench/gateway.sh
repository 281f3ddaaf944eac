#!/usr/bin/env bash
# The gateway's cost, on one warm server: a tiny upstream (bench/upstream) called directly, through a bare YARP route
# of the same portal process (Portal:Gateway:BareRouteUpstream: the same forwarder and client, no key, plan or usage),
# and through the gateway with a subscribed key on a generous plan. Interleaved runs; medians; each throughput as a
# share of the bare route's, and p99.
# Usage: bench/gateway.sh [seconds-per-run=10] [runs=5]
# Needs wrk and jq. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10}
runs=${2:-5}
free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }
port=$(free_port 5199)
up_port=$(free_port $((port + 100)))
work=$(mktemp -d)
export Portal__Database__ConnectionString="Data Source=$work/bench.db"
export Portal__Bootstrap__AdminEmail="bench@localhost"
export Portal__Bootstrap__AdminPassword="Bench#Pass123"
export Portal__Gateway__BareRouteUpstream="http://127.0.0.1:$up_port"
export Logging__LogLevel__Default=Warning
export DOTNET_TC_CallCountingDelayMs=0

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: apt-get install -y jq" >&2; exit 1; }

dotnet publish Portal.Web -c Release -o "$work/app" --nologo -v quiet >/dev/null
dotnet publish bench/upstream -c Release -o "$work/upstream" --nologo -v quiet >/dev/null
app="$work/app/Portal.Web.dll"

key=$(cd "$work/app" && dotnet "$app" create-api-key --email bench@localhost --name bench --scopes read,write,admin 2>/dev/null | tail -n 1)
[[ "$key" == ptl_* ]] || { echo "could not create a key: $key" >&2; exit 1; }

(exec dotnet "$work/upstream/Upstream.dll" --urls "http://127.0.0.1:$up_port" >"$work/upstream.log" 2>&1) &
upstream=$!
(cd "$work/app" && ASPNETCORE_URLS="http://127.0.0.1:$port" exec dotnet "$app" >"$work/server.log" 2>&1) &
server=$!
trap 'kill $server $upstream 2>/dev/null || true; wait $server $upstream 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && curl -fs "http://127.0.0.1:$up_port/" >/dev/null && break; sleep 1; done

api() { # method path [json] -> response body; fails loudly on an error status
  local args=(-sS --fail-with-body -X "$1" -H "Authorization: Bearer $key" -H "Content-Type: application/json")
  [ -z "${3:-}" ] || args+=(--data "$3")
  curl "${args[@]}" "http://127.0.0.1:$port/api/v1$2" || { echo "$1 $2 failed" >&2; exit 1; }
}
account=$(api POST /accounts '{"name":"Bench Inc"}' | jq -r .id)
created=$(api POST /applications "{\"name\":\"bench gateway client\",\"accountId\":\"$account\"}")
app_id=$(jq -r .id <<<"$created")
app_key=$(jq -r .key <<<"$created")
product=$(api POST /products "{\"name\":\"Bench API\",\"slug\":\"bench-api\",\"published\":true,\"requiresApproval\":false,
  \"upstreamUrl\":\"http://127.0.0.1:$up_port\",
  \"plans\":[{\"name\":\"Unlimited\",\"type\":\"Subscription\",\"rateLimit\":1000000,\"rateLimitWindow\":\"Second\",\"quota\":1000000000000,\"quotaPeriod\":\"Month\"}]}")
product_id=$(jq -r .id <<<"$product")
plan_id=$(jq -r '.plans[0].id' <<<"$product")
status=$(api POST /subscriptions "{\"applicationId\":\"$app_id\",\"productId\":\"$product_id\",\"planId\":\"$plan_id\"}" | jq -r .status)
[ "$status" = "APPROVED" ] || { echo "subscription is $status, not APPROVED" >&2; exit 1; }

direct="http://127.0.0.1:$up_port/hello"
bare="http://127.0.0.1:$port/gateway-bare/hello"
gateway="http://127.0.0.1:$port/gateway/bench-api/hello"
auth="Authorization: Bearer $app_key"
for check in "$direct" "$bare"; do curl -fs "$check" >/dev/null || { echo "$check does not answer" >&2; exit 1; }; done
curl -fs -H "$auth" "$gateway" >/dev/null || { echo "the gateway refuses the subscribed key" >&2; exit 1; }

run() { # url [header] -> "rps p99ms"
  local out
  if [ -z "${2:-}" ]; then out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1"); else out=$(wrk -t2 -c64 -d"${duration}s" --latency -H "$2" "$1"); fi
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $1: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}

warm=$(( duration < 10 ? duration : 10 ))
echo "warming up…" >&2
wrk -t2 -c64 -d"${warm}s" "$bare" >/dev/null
wrk -t2 -c64 -d"${warm}s" -H "$auth" "$gateway" >/dev/null

d=(); b=(); g=()
for i in $(seq 1 "$runs"); do
  d+=("$(run "$direct")")
  b+=("$(run "$bare")")
  g+=("$(run "$gateway" "$auth")")
  echo "run $i: direct ${d[-1]} | bare YARP ${b[-1]} | gateway ${g[-1]}   (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
# The plan is far above what a run reaches: a refusal would have shown as non-2xx above; the key must still pass.
curl -fs -H "$auth" "$gateway" >/dev/null || { echo "the gateway no longer passes the subscribed key" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
column() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
share() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
d_rps=$(column 1 "${d[@]}"); d_p99=$(column 2 "${d[@]}")
b_rps=$(column 1 "${b[@]}"); b_p99=$(column 2 "${b[@]}")
g_rps=$(column 1 "${g[@]}"); g_p99=$(column 2 "${g[@]}")

echo
echo "| path | requests/s (median of $runs) | share of bare YARP | p99 latency |"
echo "|---|---|---|---|"
echo "| upstream direct | $d_rps | $(share "$d_rps" "$b_rps") | ${d_p99} ms |"
echo "| bare YARP route (same process, no auth) | $b_rps | 1.00 | ${b_p99} ms |"
echo "| Portal gateway (key, plan, usage) | $g_rps | $(share "$g_rps" "$b_rps") | ${g_p99} ms |"
