#!/usr/bin/env bash
# Two Portal instances on one PostgreSQL database sharing one Redis, as behind a load balancer: verification
# throughput on each instance against its bare /healthz in the same run (interleaved), then a check that the
# limits stay exact across both (a plan of 5 calls a minute lets exactly 5 pass; a quota of 20 exactly 20).
# Usage: bench/two-instances.sh [seconds-per-run=10] [runs=3] [warm-up-seconds=30]
# Needs redis-server, wrk, jq, psql and a PostgreSQL server: PGHOST (localhost), PGPORT (5432), PGUSER (postgres),
# PGPASSWORD (portal-test). Creates a database of its own and drops it at the end. Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10}
runs=${2:-3}
warmup=${3:-30}
export PGHOST=${PGHOST:-localhost} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres} PGPASSWORD=${PGPASSWORD:-portal-test}

for tool in redis-server wrk jq psql curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (apt-get install -y redis-server wrk jq postgresql-client curl)" >&2; exit 1; }
done

free_port() { # the first free port from $1: other benchmarks or tests may be running on this machine
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

work=$(mktemp -d)
database="portal_bench_$(date +%s)_$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql -q -d postgres -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

psql -q -d postgres -c "CREATE DATABASE \"$database\"" >/dev/null
redis_port=$(free_port 6390)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)

export Portal__Database__Provider=PostgreSQL
export Portal__Database__ConnectionString="Host=$PGHOST;Port=$PGPORT;Username=$PGUSER;Password=$PGPASSWORD;Database=$database"
export Portal__Redis__ConnectionString="127.0.0.1:$redis_port"
# On PostgreSQL the key ring must be protected (docs/security.md): a throwaway certificate shared by both instances.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ring.key" -out "$work/ring.crt" -days 2 -subj /CN=portal-bench 2>/dev/null
openssl pkcs12 -export -out "$work/ring.pfx" -inkey "$work/ring.key" -in "$work/ring.crt" -passout pass:bench
export Portal__DataProtection__CertificatePath="$work/ring.pfx"
export Portal__DataProtection__CertificatePassword=bench
export Portal__Bootstrap__AdminEmail="bench@localhost"
export Portal__Bootstrap__AdminPassword="Bench#Pass123"
export Logging__LogLevel__Default=Warning
export DOTNET_TC_CallCountingDelayMs=0

dotnet publish Portal.Web -c Release -o "$work/app" --nologo -v quiet >/dev/null
app="$work/app/Portal.Web.dll"
(cd "$work/app" && dotnet "$app" migrate >/dev/null)
key=$(cd "$work/app" && dotnet "$app" create-api-key --email bench@localhost --name bench --scopes read,write,admin 2>/dev/null | tail -n 1)
[[ "$key" == ptl_* ]] || { echo "could not create a key: $key" >&2; exit 1; }

port_a=$(free_port 5299)
(cd "$work/app" && ASPNETCORE_URLS="http://127.0.0.1:$port_a" exec dotnet "$app" >"$work/a.log" 2>&1) &
pids+=($!)
sleep 1
port_b=$(free_port $((port_a + 1)))
(cd "$work/app" && ASPNETCORE_URLS="http://127.0.0.1:$port_b" exec dotnet "$app" >"$work/b.log" 2>&1) &
pids+=($!)
for port in "$port_a" "$port_b"; do
  for _ in $(seq 1 90); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null || { echo "instance on $port does not answer" >&2; cat "$work"/*.log >&2; exit 1; }
done

api() { # port method path [json] -> response body; fails loudly (with the problem details) on an error status
  local args=(-sS --fail-with-body -X "$2" -H "Authorization: Bearer $key" -H "Content-Type: application/json")
  [ -z "${4:-}" ] || args+=(--data "$4")
  curl "${args[@]}" "http://127.0.0.1:$1/api/v1$3" || { echo "$2 $3 failed" >&2; exit 1; }
}
# An application subscribed to a product with the given plan; prints its key.
subscribed() { # slug plan-json -> application key
  local account created product status
  account=$(api "$port_a" POST /accounts "{\"name\":\"Bench $1\"}" | jq -r .id)
  created=$(api "$port_a" POST /applications "{\"name\":\"bench $1\",\"accountId\":\"$account\"}")
  product=$(api "$port_a" POST /products "{\"name\":\"Bench $1\",\"slug\":\"$1\",\"published\":true,\"requiresApproval\":false,\"plans\":[$2]}")
  status=$(api "$port_a" POST /subscriptions "{\"applicationId\":\"$(jq -r .id <<<"$created")\",\"productId\":\"$(jq -r .id <<<"$product")\",\"planId\":\"$(jq -r '.plans[0].id' <<<"$product")\"}" | jq -r .status)
  [ "$status" = "APPROVED" ] || { echo "subscription to $1 is $status, not APPROVED" >&2; exit 1; }
  jq -r .key <<<"$created"
}
verify_code() { # port app-key slug -> VALID | RATE_LIMITED | …
  api "$1" POST /keys/verify "{\"key\":\"$2\",\"product\":\"$3\"}" | jq -r .code
}

app_key=$(subscribed bench-api '{"name":"Unlimited","type":"Subscription","rateLimit":1000000,"rateLimitWindow":"Second","quota":1000000000000,"quotaPeriod":"Month"}')
for port in "$port_a" "$port_b"; do
  [ "$(verify_code "$port" "$app_key" bench-api)" = "VALID" ] || { echo "the subscribed key is not VALID on $port" >&2; exit 1; }
done
export VERIFY_CALLER="$key" VERIFY_KEY="$app_key" VERIFY_PRODUCT="bench-api"
verify_lua="$(pwd)/bench/verify.lua"

run() { # url [lua script] -> "rps p99ms"
  local out rps p99
  if [ -n "${2:-}" ]; then out=$(wrk -t2 -c64 -d"${duration}s" --latency -s "$2" "$1"); else out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1"); fi
  if grep -q "Non-2xx" <<<"$out"; then echo "non-2xx answers from $1: $(grep Non-2xx <<<"$out")" >&2; exit 1; fi
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}

echo "warming up (${warmup} s)…" >&2
slice=$(( (warmup + 3) / 4 ))
for port in "$port_a" "$port_b"; do
  wrk -t2 -c64 -d"${slice}s" "http://127.0.0.1:$port/healthz" >/dev/null
  wrk -t2 -c64 -d"${slice}s" -s "$verify_lua" "http://127.0.0.1:$port/api/v1/keys/verify" >/dev/null
done

health_a=(); verify_a=(); health_b=(); verify_b=()
for i in $(seq 1 "$runs"); do
  health_a+=("$(run "http://127.0.0.1:$port_a/healthz")")
  verify_a+=("$(run "http://127.0.0.1:$port_a/api/v1/keys/verify" "$verify_lua")")
  health_b+=("$(run "http://127.0.0.1:$port_b/healthz")")
  verify_b+=("$(run "http://127.0.0.1:$port_b/api/v1/keys/verify" "$verify_lua")")
  ratios=$(awk -v ha="${health_a[-1]%% *}" -v va="${verify_a[-1]%% *}" -v hb="${health_b[-1]%% *}" -v vb="${verify_b[-1]%% *}" \
    'BEGIN {printf "A verify %.0f%% of healthz, B verify %.0f%% of healthz", 100*va/ha, 100*vb/hb}')
  echo "run $i: A healthz ${health_a[-1]} verify ${verify_a[-1]} | B healthz ${health_b[-1]} verify ${verify_b[-1]}   ($ratios; load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
done
for port in "$port_a" "$port_b"; do
  [ "$(verify_code "$port" "$app_key" bench-api)" = "VALID" ] || { echo "the subscribed key no longer verifies VALID on $port" >&2; exit 1; }
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
column() { printf '%s\n' "${@:2}" | awk -v c="$1" '{print $c}' | median; }
percent() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f%%", 100*a/b}'; }
ha=$(column 1 "${health_a[@]}"); va=$(column 1 "${verify_a[@]}"); hb=$(column 1 "${health_b[@]}"); vb=$(column 1 "${verify_b[@]}")
echo
echo "| instance | GET /healthz req/s | POST /api/v1/keys/verify req/s (Redis) | verify p99 | verify / healthz |"
echo "|---|---|---|---|---|"
echo "| A | $ha | $va | $(column 2 "${verify_a[@]}") ms | $(percent "$va" "$ha") |"
echo "| B | $hb | $vb | $(column 2 "${verify_b[@]}") ms | $(percent "$vb" "$hb") |"
echo "(medians of $runs runs of ${duration} s)"

# Exactness across both instances, calls alternating between them.
second=$(date +%S); second=${second#0}
if [ "$second" -gt 45 ]; then sleep $((61 - second)); fi # the 40 calls below stay in one minute's window
rate_key=$(subscribed bench-rate '{"name":"Five a minute","type":"Subscription","rateLimit":5,"rateLimitWindow":"Minute"}')
quota_key=$(subscribed bench-quota '{"name":"Twenty a month","type":"Subscription","quota":20,"quotaPeriod":"Month"}')
rate_valid=0; quota_valid=0
for i in $(seq 1 40); do
  port=$([ $((i % 2)) -eq 0 ] && echo "$port_a" || echo "$port_b")
  [ "$(verify_code "$port" "$rate_key" bench-rate)" = "VALID" ] && rate_valid=$((rate_valid + 1))
  [ "$(verify_code "$port" "$quota_key" bench-quota)" = "VALID" ] && quota_valid=$((quota_valid + 1))
done
echo
echo "limits across both instances (40 calls alternating): rate limit 5/min let $rate_valid pass, quota 20 let $quota_valid pass"
[ "$rate_valid" -eq 5 ] && [ "$quota_valid" -eq 20 ] || { echo "LIMITS NOT EXACT" >&2; exit 1; }
echo "limits exact"
