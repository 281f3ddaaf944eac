#!/usr/bin/env bash
# Runs every test on this machine, provisioning first what the tests need and the machine lacks:
#   Chromium (Portal.E2E drives /usr/bin/chromium), PostgreSQL (a slice of Portal.Tests runs on it) and
#   redis-server (the several-instance tests start their own on a free port).
# Each step is a no-op when already done. Installing needs root (or sudo); on Debian/Ubuntu only.
# Then it runs Portal.Tests and Portal.E2E one after the other, writes TRX results to TestResults/ and prints
# "N passed, N failed".
set -euo pipefail

cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ -z "${PORTAL_TEST_POSTGRES:-}" ] && ! command -v pg_ctlcluster >/dev/null; then missing+=(postgresql); fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# PostgreSQL: with PORTAL_TEST_POSTGRES set, that server is used as it is (a connection string without a database;
# each test class creates and drops its own). Otherwise the first local cluster is created if there is none, started,
# and user postgres gets the tests' default password.
if [ -z "${PORTAL_TEST_POSTGRES:-}" ]; then
    if [ -z "$(pg_lsclusters --no-header)" ]; then
        as_root pg_createcluster --locale C.UTF-8 "$(ls /usr/lib/postgresql | sort -V | tail -n 1)" main
    fi
    read -r pg_version pg_cluster pg_port _ < <(pg_lsclusters --no-header | head -n 1) \
        || { echo "PostgreSQL: no cluster to start (pg_lsclusters lists none)" >&2; exit 1; }
    as_root pg_ctlcluster "$pg_version" "$pg_cluster" status >/dev/null || as_root pg_ctlcluster "$pg_version" "$pg_cluster" start
    as_root runuser -u postgres -- psql -p "$pg_port" -qc "ALTER USER postgres PASSWORD 'portal-test'"
    # Test classes run side by side, each with databases, two-instance hosts and listeners of its own: PostgreSQL's
    # default of 100 connections is not enough and a class fails with "too many clients". Raised once, then restarted.
    if [ "$(as_root runuser -u postgres -- psql -p "$pg_port" -Atc "SHOW max_connections")" -lt 400 ]; then
        as_root runuser -u postgres -- psql -p "$pg_port" -qc "ALTER SYSTEM SET max_connections = 400"
        as_root pg_ctlcluster "$pg_version" "$pg_cluster" restart
    fi
    export PORTAL_TEST_POSTGRES="Host=localhost;Port=$pg_port;Username=postgres;Password=portal-test"
fi

results=TestResults
rm -rf "$results"

# One test project at a time: on a 2-core machine the browser journeys, run beside the service tests, meet their
# timeouts now and then.
status=0
dotnet test --solution Portal.sln --max-parallel-test-modules 1 --report-xunit-trx --results-directory "$results" || status=$?

echo "Screenshots: $(pwd)/artifacts/screenshots"

counts=$(python3 - "$results" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
passed = failed = 0
for path in glob.glob(os.path.join(sys.argv[1], "**", "*.trx"), recursive=True):
    for result in ET.parse(path).getroot().iter():
        if result.tag.endswith("UnitTestResult"):
            outcome = result.get("outcome", "")
            if outcome == "Passed":
                passed += 1
            elif outcome in ("NotExecuted", "Inconclusive", "Pending"):
                continue
            else:
                failed += 1
                # Name the failure and its message on stderr, so a log cut short still says what broke.
                message = " ".join(e.text or "" for e in result.iter() if e.tag.endswith("Message"))
                print(f"FAILED {result.get('testName')}: {message[:1500]}", file=sys.stderr)
print(passed, failed)
PY
)
read -r passed failed <<<"$counts"
echo "$passed passed, $failed failed"

if [ "$status" -ne 0 ]; then echo "The test command failed (exit code $status)." >&2; exit "$status"; fi
if [ "$failed" -ne 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ]; then echo "No tests ran." >&2; exit 1; fi
