#!/usr/bin/env bash
# How fast the web console's pages load (issue 15: "pages load in under 300 ms from a cold
# cache on loopback with 10,000 CDRs and 1,000 gateways"); README "Web console".
#
#   bench/run_console_bench.sh [BUILD_DIR]     (default build-me, the release build, if it
#                                               exists, else build-dev)
#   env: REPS=10  CUSTOMERS=500 VENDORS=500 CDRS=10000 PREFIXES=3000  NO_BUILD=1 (skip ninja)
#        API_PORT=27810 SIP_PORT=27811 DEVTOOLS_PORT=27812 DNS_PORT=27813
#        BENCH_OUT=/tmp/trunkline-console-bench (the run's directory below it: database,
#        logs, curl.json, browse.json)  KEEP=1 (keep the chromium profile too)
#
# 1. builds trunkline and trunkctl (flock /tmp/build.lock nice ninja -j2: a shared machine);
# 2. a fresh database in a new directory, seeded with trunkctl by bench/console_load.py seed:
#    CUSTOMERS customer + VENDORS vendor gateways, one account each, 14 rate groups of
#    PREFIXES rates, CDRS call records of the last 24 hours (`trunkctl cdr import`), a token;
# 3. trunkline on that database (API on 127.0.0.1:API_PORT, SIP on 127.0.0.1:SIP_PORT, DNS
#    only to 127.0.0.1:DNS_PORT where nothing answers: no traffic leaves loopback; the vendor
#    gateways' OPTIONS probes are off);
# 4. console_load.py curl: every API request the pages make, timed with curl;
# 5. console_load.py browse: headless chromium, a fresh profile, the HTTP cache disabled:
#    per page a cold full load and the in-console navigation, median and max (see its doc).
# Every process is started here and stopped by its PID (trap); every wait is bounded.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
	build=$1
elif [ -d "$root/build-me" ]; then
	build="build-me"
else
	build="build-dev"
fi
[[ $build = /* ]] || build="$root/$build"
TRUNKLINE="$build/server/trunkline"
TRUNKCTL="$build/tools/trunkctl/trunkctl"
REPS=${REPS:-10}
CUSTOMERS=${CUSTOMERS:-500}
VENDORS=${VENDORS:-500}
CDRS=${CDRS:-10000}
PREFIXES=${PREFIXES:-3000}
API_PORT=${API_PORT:-27810}
SIP_PORT=${SIP_PORT:-27811}
DEVTOOLS_PORT=${DEVTOOLS_PORT:-27812}
DNS_PORT=${DNS_PORT:-27813}
PY=${PYTHON:-python3}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

for t in chromium curl "$PY" flock ss; do
	command -v "$t" >/dev/null 2>&1 || die "missing $t (scripts/setup.sh)"
done
for p in "$API_PORT" "$DEVTOOLS_PORT"; do
	[ -z "$(ss -Hltn "sport = :$p")" ] || die "TCP port $p is in use (set API_PORT / DEVTOOLS_PORT)"
done
[ -z "$(ss -Hlun "sport = :$SIP_PORT")" ] || die "UDP port $SIP_PORT is in use (set SIP_PORT)"

if [ "${NO_BUILD:-0}" != 1 ]; then
	log "building $build: server/trunkline tools/trunkctl/trunkctl"
	flock /tmp/build.lock nice ninja -C "$build" -j2 server/trunkline tools/trunkctl/trunkctl >&2 ||
		die "build failed"
fi
[ -x "$TRUNKLINE" ] && [ -x "$TRUNKCTL" ] || die "no $TRUNKLINE / $TRUNKCTL: build first"

mkdir -p "${BENCH_OUT:-${TMPDIR:-/tmp}/trunkline-console-bench}"
OUT=$(mktemp -d "${BENCH_OUT:-${TMPDIR:-/tmp}/trunkline-console-bench}/run-$(date +%Y%m%d-%H%M%S)-XXXX")
log "artifacts: $OUT ($(basename "$build"), $(git -C "$root" rev-parse --short HEAD 2>/dev/null))"

TL_PID="" PY_PID=""
stop_pid() { # PID: TERM, up to 10 s, then KILL; only PIDs started here
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	local c
	stop_pid "$PY_PID"   # the browser step stops its chromium on TERM
	# ... unless it was killed first: chromium (the leader of its own process group) by the
	# PID it wrote, if that PID is still a chromium
	c=$(cat "$OUT/chromium.pid" 2>/dev/null)
	if [ -n "$c" ] && grep -qa chromium "/proc/$c/cmdline" 2>/dev/null; then
		kill -TERM "$c" 2>/dev/null; sleep 1; kill -KILL -- "-$c" 2>/dev/null
	fi
	stop_pid "$TL_PID"
	TL_PID="" PY_PID=""
	[ "${KEEP:-0}" = 1 ] || rm -rf "$OUT/chromium-profile" "$OUT/auth-header"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run_py ARGS...: console_load.py in the background (so a signal reaches the trap at once)
run_py() {
	"$PY" "$root/bench/console_load.py" "$@" &
	PY_PID=$!
	wait "$PY_PID"
	local rc=$?
	PY_PID=""
	return $rc
}

DB="$OUT/trunkline.db"
log "seeding $DB: $CUSTOMERS customer + $VENDORS vendor gateways, $CDRS CDRs"
run_py seed --trunkctl "$TRUNKCTL" --db "$DB" --work "$OUT" --customers "$CUSTOMERS" \
	--vendors "$VENDORS" --cdrs "$CDRS" --prefixes "$PREFIXES" || die "seeding failed"

"$TRUNKLINE" --db "$DB" --udp "127.0.0.1:$SIP_PORT" --tcp off --api "127.0.0.1:$API_PORT" \
	--dns-server "127.0.0.1:$DNS_PORT" --quiet >"$OUT/trunkline.log" 2>&1 &
TL_PID=$!
for ((n = 0; n < 300; n++)); do
	grep -q "api: listening" "$OUT/trunkline.log" && break
	kill -0 "$TL_PID" 2>/dev/null || { tail -20 "$OUT/trunkline.log" >&2; die "trunkline exited"; }
	sleep 0.1
done
grep -q "api: listening" "$OUT/trunkline.log" || die "trunkline's API did not start in 30 s"
log "trunkline pid $TL_PID, API http://127.0.0.1:$API_PORT"
API="http://127.0.0.1:$API_PORT"
# the book with 1,000 gateways loaded (the first request may otherwise pay for it)
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$OUT/token")" >"$OUT/auth-header")
for ((n = 0; n < 100; n++)); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "@$OUT/auth-header" "$API/api/gateways")" = 200 ] && break
	sleep 0.1
done

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
run_py curl --api "$API" --token-file "$OUT/token" --reps "$REPS" --json-out "$OUT/curl.json" ||
	die "curl profile failed"
run_py browse --api "$API" --token-file "$OUT/token" --devtools-port "$DEVTOOLS_PORT" \
	--work "$OUT" --reps "$REPS" --json-out "$OUT/browse.json" || die "browser run failed"
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
log "trunkline: $(awk '/^VmRSS/{print $2, $3}' "/proc/$TL_PID/status" 2>/dev/null) resident"
log "results: $OUT/curl.json $OUT/browse.json"
