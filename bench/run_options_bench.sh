#!/usr/bin/env bash
# OPTIONS over UDP from SIPp, side by side in one run: Kamailio answering statelessly
# (sl_send_reply, bench/peers/kamailio/stateless.cfg) and trunkline, whose transaction layer
# matches the request and whose element answers it statelessly too (RFC 3261 §8.2.7: a
# retransmission gets the same bytes; DESIGN.md "Memory"). For each server the rate steps up until a step fails (any failed or
# unfinished request, or SIPp offering < 95% of the target); reported: the highest passing
# rate and the server's CPU time per request at that rate (from /proc, much less noisy
# than the rate on a 2-core machine where SIPp competes for the same cores).
#
#   bench/run_options_bench.sh [BUILD_DIR]        (default build)
#   env: RATES="2000 5000 10000 15000 20000 30000"  DURATION=5  KAM_CHILDREN=1
# Everything binds to 127.0.0.1; every process is stopped by its PID; every SIPp run is
# bounded in calls and time.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
trunkline="$build/server/trunkline"
RATES=${RATES:-"2000 5000 10000 15000 20000 30000"}
DURATION=${DURATION:-5}
KAM_CHILDREN=${KAM_CHILDREN:-1}
KAM_PORT=29060 TL_PORT=29070 SIPP_PORT=29061
work=$(mktemp -d "${TMPDIR:-/tmp}/trunkline-options-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
command -v kamailio >/dev/null && command -v sipp >/dev/null || { echo "needs kamailio and sipp (scripts/setup.sh)"; exit 2; }
[ -x "$trunkline" ] || { echo "no $trunkline: build first"; exit 2; }

cpu_ticks() {  # utime+stime of a PID and its threads, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
cpu_ticks_all() {  # Kamailio forks its workers: the main process and every descendant
  local total=0 p queue=("$1")
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    total=$((total + $(cpu_ticks "$p")))
    queue+=($(pgrep -P "$p" 2>/dev/null))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)

run_step() {  # PORT RATE -> prints "ok|fail <successful> <failed>"
  local port=$1 rate=$2 calls=$(( $2 * DURATION )) out
  out=$(timeout $((DURATION + 40)) sipp -sf "$root/tests/integration/sipp/options.xml" \
        -t u1 -i 127.0.0.1 -p "$SIPP_PORT" -r "$rate" -rp 1000 -m "$calls" -l $((rate * 3 + 100)) \
        -buff_size 4194304 -timeout $((DURATION + 30))s -recv_timeout 5000 -nostdin \
        -max_recv_loops 100000 -max_sched_loops 100000 "127.0.0.1:$port" 2>&1)
  local rc=$? ok bad
  ok=$(grep -oE 'Successful call +\| +[0-9]+ +\| +[0-9]+' <<<"$out" | awk '{print $NF}' | tail -1)
  bad=$(grep -oE 'Failed call +\| +[0-9]+ +\| +[0-9]+' <<<"$out" | awk '{print $NF}' | tail -1)
  ok=${ok:-0}; bad=${bad:-0}
  if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$ok" -ge $((calls * 95 / 100)) ]; then
    echo "ok $ok $bad"
  else
    echo "fail $ok $bad"
  fi
}

measure() {  # NAME PORT PIDFN PID
  local name=$1 port=$2 fn=$3 pid=$4 best=0 best_us=- r
  for r in $RATES; do
    local before after res us
    before=$($fn "$pid")
    res=$(run_step "$port" "$r")
    after=$($fn "$pid")
    read -r verdict ok bad <<<"$res"
    us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$ok" 'BEGIN{ if (n>0) printf "%.1f", t*1e6/hz/n; else print "-"}')
    printf '  %-10s %6s req/s: %-4s %7s ok %5s failed  %s us CPU/request\n' "$name" "$r" "$verdict" "$ok" "$bad" "$us"
    if [ "$verdict" = ok ]; then best=$r; best_us=$us; else break; fi
    sleep 1
  done
  echo "$name $best $best_us" >>"$work/summary"
}

# Kamailio, stateless
mkdir -p "$work/kam"
kamailio -f "$root/bench/peers/kamailio/stateless.cfg" -DD -E -n "$KAM_CHILDREN" -x tlsf \
  -P "$work/kam/pid" -Y "$work/kam" -A "KAM_PORT=$KAM_PORT" -A "CTL_SOCK=\"unix:$work/kam/ctl\"" \
  >"$work/kam/log" 2>&1 &
kam=$!
pids+=("$kam")
sleep 1
echo "Kamailio (sl_send_reply, $KAM_CHILDREN worker, -x tlsf) on 127.0.0.1:$KAM_PORT"
measure kamailio "$KAM_PORT" cpu_ticks_all "$kam"
kill -TERM "$kam"; wait "$kam" 2>/dev/null

# trunkline: parsed, matched by the transaction layer, answered statelessly by the element
"$trunkline" --udp "127.0.0.1:$TL_PORT" --tcp off --quiet >"$work/tl.log" 2>&1 &
tl=$!
pids+=("$tl")
sleep 0.5
echo "trunkline (stateless answer, one loop) on 127.0.0.1:$TL_PORT"
measure trunkline "$TL_PORT" cpu_ticks "$tl"
kill -TERM "$tl"; wait "$tl" 2>/dev/null

echo
echo "| server | highest passing rate (req/s) | CPU per request (us) |"
echo "|---|---:|---:|"
while read -r name best us; do echo "| $name | $best | $us |"; done <"$work/summary"
read -r _ kbest kus < <(grep '^kamailio ' "$work/summary")
read -r _ tbest tus < <(grep '^trunkline ' "$work/summary")
awk -v kb="$kbest" -v tb="$tbest" -v ku="$kus" -v tu="$tus" 'BEGIN{
  if (kb > 0) printf "rate ratio trunkline/kamailio: %.2f\n", tb/kb;
  if (ku+0 > 0 && tu+0 > 0) printf "CPU per request ratio kamailio/trunkline: %.2f (above 1: trunkline cheaper)\n", ku/tu }'
