#!/usr/bin/env bash
# One loop against two, in one run (issue 13 goal 5; DESIGN.md §8 "Several loops"): the same
# trunkline build with `--udp-threads 1` and `--udp-threads 2`, under the same load, for
# OPTIONS (answered on whichever loop reads them) and REGISTER with digest (read and parsed
# on either loop, handled on the switch's loop).
#
# The kernel spreads datagrams over the port's sockets by the sender's address and port
# (SO_REUSEPORT), so one SIPp socket (-t u1) would always reach the same loop: the load comes
# from SIPPS SIPp processes (default 4), each its own port, each at RATE/SIPPS. How evenly
# four senders fall on two sockets is the kernel's hash; the reader thread's share of the CPU
# is printed per step so the split can be seen.
#
# Per step (DURATION s): PASS = every SIPp finished with no failed call and >= 95% of the
# target done; CPU us per request = trunkline's utime+stime (every thread, /proc/PID/stat)
# over the successful requests (a registration is two: REGISTER -> 401, REGISTER -> 200);
# switch_loop_us = the same for the switch's loop alone (the process's first thread), the
# figure that bounds the rate where the load does not share the cores (here SIPp does).
# Steps go up until one fails. Printed: one row per step, the highest passing rate per loop
# count, and the ratios 2 loops / 1 loop (rate, and CPU per request at the highest rate both
# passed).
#
#   bench/run_loops_bench.sh [BUILD_DIR]        (default build; needs trunkline, trunkctl)
#   env: WORKLOADS="options register"  LOOPS="1 2"  SIPPS=4  DURATION=10
#        OPTIONS_RATES="20000 30000 40000 50000 60000 70000 80000"
#        REGISTER_RATES="2000 4000 6000 8000 10000 12000 14000 16000"
#        TL_USERS_DB=<trunkline.users.db of an earlier run_registrar_bench.sh> (skips the import)
# Everything binds to 127.0.0.1; every process is stopped by its PID; every SIPp run is
# bounded in calls and time (-m, -timeout, an outer `timeout`).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
trunkline="$build/server/trunkline"
trunkctl="$build/tools/trunkctl/trunkctl"
WORKLOADS=${WORKLOADS:-"options register"}
LOOPS=${LOOPS:-"1 2"}
SIPPS=${SIPPS:-4}
DURATION=${DURATION:-10}
OPTIONS_RATES=${OPTIONS_RATES:-"20000 30000 40000 50000 60000 70000 80000"}
REGISTER_RATES=${REGISTER_RATES:-"2000 4000 6000 8000 10000 12000 14000 16000"}
USERS_CSV="$root/bench/peers/kamailio/data/users.csv"
TL_PORT=29270 SIPP_PORT0=29271
# log, die, track_pid/stop_pid (every process stopped by its PID) and proc_ticks
source "$root/bench/peers/kamailio/lib/common.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/trunkline-loops-bench.XXXXXX")
trap 'cleanup; rm -rf "$work"' EXIT
command -v sipp >/dev/null && command -v sqlite3 >/dev/null || die "needs sipp and sqlite3 (scripts/setup.sh)"
[ -x "$trunkline" ] && [ -x "$trunkctl" ] || die "no $trunkline / $trunkctl: build first"
require_free_ports "$TL_PORT" $(seq "$SIPP_PORT0" $((SIPP_PORT0 + SIPPS - 1)))
hz=$CLK_TCK

thread_ticks() {  # PID NAME: utime+stime of PID's threads called NAME ("" = the first thread)
  local t sum=0
  for t in /proc/"$1"/task/*; do
    if { [ -z "$2" ] && [ "${t##*/}" = "$1" ]; } || { [ -n "$2" ] && [ "$(cat "$t/comm" 2>/dev/null)" = "$2" ]; }; then
      sum=$((sum + $(sed 's/^.*) //' "$t/stat" | awk '{print $12 + $13}')))
    fi
  done
  echo "$sum"
}

# users: SIPPS slices of users.csv, one per SIPp (a user registers from one sender only)
realm=$(awk -F';' 'NR == 2 {print $3}' "$USERS_CSV")
for ((i = 0; i < SIPPS; i++)); do
  { echo SEQUENTIAL; awk -v n="$SIPPS" -v i="$i" 'NR > 1 && (NR - 2) % n == i' "$USERS_CSV"; } >"$work/users$i.csv"
done
users_db() {
  if [ -n "${TL_USERS_DB:-}" ]; then cp "$TL_USERS_DB" "$work/users.db"; return; fi
  [ -f "$work/users.db" ] && return
  log "importing $(($(wc -l <"$USERS_CSV") - 1)) users with trunkctl (realm $realm) ..."
  awk -F';' 'NR > 1 {print $1, $2}' "$USERS_CSV" | while read -r u p; do
    "$trunkctl" --db "$work/users.db" user add "$u" --realm "$realm" --password "$p" >/dev/null || exit 1
  done
}

# one step: SIPPS SIPp processes at RATE/SIPPS each; prints "PASS|FAIL ok failed"
run_step() {  # WORKLOAD RATE
  local wl=$1 rate=$2 per=$(( $2 / SIPPS )) calls i rc=0 ok=0 bad=0 o b sp=()
  calls=$((per * DURATION))
  for ((i = 0; i < SIPPS; i++)); do
    local args=(-sf "$root/tests/integration/sipp/options.xml")
    [ "$wl" = register ] && args=(-sf "$root/bench/peers/kamailio/sipp/register_auth.xml"
                                  -inf "$work/users$i.csv" -default_behaviors all,-bye)
    timeout $((DURATION + 60)) sipp "${args[@]}" -t u1 -i 127.0.0.1 -p $((SIPP_PORT0 + i)) \
      -r "$per" -rp 1000 -m "$calls" -l $((per * 3 + 100)) -buff_size 4194304 \
      -timeout $((DURATION + 40))s -recv_timeout 10000 -nostdin \
      -max_recv_loops 100000 -max_sched_loops 100000 "127.0.0.1:$TL_PORT" >"$work/sipp$i.out" 2>&1 &
    sp+=($!)
  done
  for p in "${sp[@]}"; do wait "$p" || rc=1; done  # each bounded by its `timeout`
  for ((i = 0; i < SIPPS; i++)); do
    o=$(grep -oE 'Successful call +\| +[0-9]+ +\| +[0-9]+' "$work/sipp$i.out" | awk '{print $NF}' | tail -1)
    b=$(grep -oE 'Failed call +\| +[0-9]+ +\| +[0-9]+' "$work/sipp$i.out" | awk '{print $NF}' | tail -1)
    ok=$((ok + ${o:-0})); bad=$((bad + ${b:-0}))
  done
  if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$ok" -ge $((calls * SIPPS * 95 / 100)) ]; then
    echo "PASS $ok $bad"
  else
    echo "FAIL $ok $bad"
  fi
}

declare -A BEST US_AT
printf 'workload\tloops\trate\tverdict\tok\tfailed\tus_per_request\tswitch_loop_us\treader_cpu_share\n' >"$work/steps"
for wl in $WORKLOADS; do
  rates=$OPTIONS_RATES per_call=1
  if [ "$wl" = register ]; then rates=$REGISTER_RATES per_call=2; users_db; fi
  for n in $LOOPS; do
    db="$work/tl$n.db"
    rm -f "$db"*
    [ "$wl" = register ] && cp "$work/users.db" "$db"
    printf '[registrar]\nrealm = "%s"\nalgorithms = ["MD5"]\nregister_retry = 0\n' "$realm" >"$work/tl.toml"
    "$trunkline" --config "$work/tl.toml" --db "$db" --udp "127.0.0.1:$TL_PORT" --tcp off \
      --api off --quiet --udp-threads "$n" >"$work/tl$n.log" 2>&1 &
    tl=$!
    track_pid "$tl"
    for ((i = 0; i < 100; i++)); do grep -q listening "$work/tl$n.log" && break; sleep 0.1; done
    grep -q listening "$work/tl$n.log" || { cat "$work/tl$n.log" >&2; die "trunkline did not start"; }
    log "$wl, trunkline --udp-threads $n, $SIPPS SIPp senders"
    BEST[$wl-$n]=0
    for r in $rates; do
      before=$(proc_ticks "$tl"); rbefore=$(thread_ticks "$tl" udp-reader); mbefore=$(thread_ticks "$tl" "")
      read -r verdict ok bad < <(run_step "$wl" "$r")
      after=$(proc_ticks "$tl"); rafter=$(thread_ticks "$tl" udp-reader); mafter=$(thread_ticks "$tl" "")
      per_req() { awk -v t="$1" -v hz="$hz" -v n=$((ok * per_call)) \
                  'BEGIN{ if (n > 0) printf "%.2f", t * 1e6 / hz / n; else print "-" }'; }
      us=$(per_req $((after - before)))
      mus=$(per_req $((mafter - mbefore)))
      share=$(awk -v r=$((rafter - rbefore)) -v t=$((after - before)) \
              'BEGIN{ if (t > 0) printf "%.2f", r / t; else print "-" }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$wl" "$n" "$r" "$verdict" "$ok" "$bad" "$us" "$mus" "$share" |
        tee -a "$work/steps" >&2
      [ "$verdict" = PASS ] || break
      BEST[$wl-$n]=$r US_AT[$wl-$n-$r]=$us
      sleep 2
    done
    stop_pid "$tl" 15
  done
done

echo
column -t -s $'\t' "$work/steps"
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
for wl in $WORKLOADS; do
  line="$wl: highest passing rate"
  for n in $LOOPS; do line+=" ${n} loop(s) ${BEST[$wl-$n]}/s;"; done
  echo "$line"
  set -- $LOOPS
  if [ $# -ge 2 ]; then
    a=$1 b=$2 both=${BEST[$wl-$1]}
    [ "${BEST[$wl-$2]}" -lt "$both" ] && both=${BEST[$wl-$2]}
    echo "  rate ratio $b/$a loops: $(ratio "${BEST[$wl-$b]}" "${BEST[$wl-$a]}")"
    [ "$both" -gt 0 ] && echo "  at $both/s: CPU us per request $a loop ${US_AT[$wl-$a-$both]}," \
      "$b loops ${US_AT[$wl-$b-$both]} (ratio $b/$a $(ratio "${US_AT[$wl-$b-$both]}" "${US_AT[$wl-$a-$both]}"))"
  fi
done
