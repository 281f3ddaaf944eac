#!/usr/bin/env bash
# Throughput of an API-key-authenticated call against the bare health check, side by side on one warm server.
# Usage: bench/run.sh [seconds-per-run=10] [runs=3]
# Needs wrk (apt-get install -y wrk). Talks only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-10}
runs=${2:-3}
port=5199
work=$(mktemp -d)
db="$work/bench.db"
export Portal__Database__ConnectionString="Data Source=$db"
export Portal__Bootstrap__AdminEmail="bench@localhost"
export Portal__Bootstrap__AdminPassword="Bench#Pass123"
export Logging__LogLevel__Default=Warning
export DOTNET_TC_CallCountingDelayMs=0

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

dotnet publish Portal.Web -c Release -o "$work/app" --nologo -v quiet >/dev/null
app="$work/app/Portal.Web.dll"

key=$(cd "$work/app" && dotnet "$app" create-api-key --email bench@localhost --name bench --scopes read,write,admin 2>/dev/null | tail -n 1)
[[ "$key" == ptl_* ]] || { echo "could not create a key: $key" >&2; exit 1; }

(cd "$work/app" && ASPNETCORE_URLS="http://127.0.0.1:$port" exec dotnet "$app" >"$work/server.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 60); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 1; done
curl -fs -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/me" >/dev/null || { echo "authenticated call failed" >&2; exit 1; }

run() { # url [header] -> "rps p99ms"
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t2 -c64 -d"${duration}s" --latency -H "$2" "$1"); else out=$(wrk -t2 -c64 -d"${duration}s" --latency "$1"); fi
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  echo "$rps $p99"
}

echo "warming up (30 s)…" >&2
wrk -t2 -c64 -d15s "http://127.0.0.1:$port/healthz" >/dev/null
wrk -t2 -c64 -d15s -H "Authorization: Bearer $key" "http://127.0.0.1:$port/api/v1/me" >/dev/null

health=(); me=()
for i in $(seq 1 "$runs"); do
  health+=("$(run "http://127.0.0.1:$port/healthz")")
  me+=("$(run "http://127.0.0.1:$port/api/v1/me" "Authorization: Bearer $key")")
  echo "run $i: healthz ${health[-1]} | me ${me[-1]}" >&2
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
h_rps=$(printf '%s\n' "${health[@]}" | awk '{print $1}' | median)
h_p99=$(printf '%s\n' "${health[@]}" | awk '{print $2}' | median)
m_rps=$(printf '%s\n' "${me[@]}" | awk '{print $1}' | median)
m_p99=$(printf '%s\n' "${me[@]}" | awk '{print $2}' | median)
ratio=$(awk -v a="$m_rps" -v b="$h_rps" 'BEGIN {printf "%.0f%%", 100*a/b}')

echo
echo "| endpoint | requests/s (median of $runs) | p99 latency |"
echo "|---|---|---|"
echo "| GET /healthz | $h_rps | ${h_p99} ms |"
echo "| GET /api/v1/me (API key) | $m_rps | ${m_p99} ms |"
echo
echo "authenticated / healthz throughput: $ratio"
