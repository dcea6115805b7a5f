#!/usr/bin/env bash
# OPTIONS over UDP from SIPp, side by side in one run: Kamailio answering statelessly
# (sl_send_reply, bench/peers/kamailio/stateless.cfg) and trunkline, whose element answers
# statelessly too (RFC 3261 §8.2.7: a retransmission gets the same bytes; DESIGN.md
# "Memory"). Both servers run for the whole bench and take turns at each rate, ROUNDS times
# (the order flips every round), so a change in the machine's load between steps weighs on
# both alike; a server stops stepping up after the first rate at which a round fails (any
# failed or unfinished request, or SIPp offering < 95% of the target). Reported: each
# server's highest passing rate and, per rate, its CPU time per request (from /proc, much
# less noisy than the rate on a 2-core machine where SIPp competes for the same cores):
# the median over the rounds, and the median of the rounds' trunkline/Kamailio ratios.
#
#   bench/run_options_bench.sh [BUILD_DIR]        (default build)
#   env: RATES="2000 5000 10000 15000 20000 30000"  DURATION=5  ROUNDS=1  KAM_CHILDREN=1
# Everything binds to 127.0.0.1; every process is stopped by its PID; every SIPp run is
# bounded in calls and time.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
trunkline="$build/server/trunkline"
RATES=${RATES:-"2000 5000 10000 15000 20000 30000"}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-1}
KAM_CHILDREN=${KAM_CHILDREN:-1}
KAM_PORT=29060 TL_PORT=29070 SIPP_PORT=29061
# log, die, track_pid/stop_pid (every process stopped by its PID), proc_ticks, CLK_TCK
source "$root/bench/peers/kamailio/lib/common.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/trunkline-options-bench.XXXXXX")
trap 'cleanup; rm -rf "$work"' EXIT
command -v kamailio >/dev/null && command -v sipp >/dev/null || die "needs kamailio and sipp (scripts/setup.sh)"
[ -x "$trunkline" ] || die "no $trunkline: build first"
require_free_ports "$KAM_PORT" "$TL_PORT" "$SIPP_PORT"

tl_ticks() { proc_ticks "$1"; }  # every thread of the process
kam_ticks() { proc_ticks "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); }  # it forks its workers
hz=$CLK_TCK

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

step() {  # NAME RATE: one SIPp run against NAME; a line "NAME RATE VERDICT OK FAILED US" in steps
  local name=$1 r=$2 before after res us verdict ok bad
  before=$(${cpu_fn[$name]} "${pid_of[$name]}")
  res=$(run_step "${port_of[$name]}" "$r")
  after=$(${cpu_fn[$name]} "${pid_of[$name]}")
  read -r verdict ok bad <<<"$res"
  us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$ok" 'BEGIN{ if (n>0) printf "%.2f", t*1e6/hz/n; else print "-"}')
  printf '  %-10s %6s req/s: %-4s %7s ok %5s failed  %s us CPU/request\n' "$name" "$r" "$verdict" "$ok" "$bad" "$us"
  echo "$name $r $verdict $ok $bad $us" >>"$work/steps"
  sleep 1
}

declare -A pid_of port_of cpu_fn stepping
# Kamailio, stateless
mkdir -p "$work/kam"
kamailio -f "$root/bench/peers/kamailio/stateless.cfg" -DD -E -n "$KAM_CHILDREN" -x tlsf \
  -P "$work/kam/pid" -Y "$work/kam" -A "KAM_PORT=$KAM_PORT" -A "CTL_SOCK=\"unix:$work/kam/ctl\"" \
  >"$work/kam/log" 2>&1 &
pid_of[kamailio]=$!; port_of[kamailio]=$KAM_PORT; cpu_fn[kamailio]=kam_ticks
track_pid "${pid_of[kamailio]}"
# trunkline: parsed and answered statelessly by the element, one loop
"$trunkline" --udp "127.0.0.1:$TL_PORT" --tcp off --quiet >"$work/tl.log" 2>&1 &
pid_of[trunkline]=$!; port_of[trunkline]=$TL_PORT; cpu_fn[trunkline]=tl_ticks
track_pid "${pid_of[trunkline]}"
sleep 1
echo "Kamailio (sl_send_reply, $KAM_CHILDREN worker, -x tlsf) on 127.0.0.1:$KAM_PORT;" \
     "trunkline (stateless answer, one loop) on 127.0.0.1:$TL_PORT; $ROUNDS round(s) a rate"
stepping[kamailio]=1; stepping[trunkline]=1
: >"$work/steps"
for r in $RATES; do
  for ((round = 1; round <= ROUNDS; round++)); do
    order="kamailio trunkline"
    ((round % 2 == 0)) && order="trunkline kamailio"
    for name in $order; do [ "${stepping[$name]}" = 1 ] && step "$name" "$r"; done
  done
  for name in kamailio trunkline; do  # one failed round ends a server's climb
    grep -q "^$name $r fail " "$work/steps" && stepping[$name]=0
  done
  [ "${stepping[kamailio]}${stepping[trunkline]}" = 00 ] && break
done
for name in kamailio trunkline; do stop_pid "${pid_of[$name]}" 5; done

echo
awk -v rounds="$ROUNDS" '
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { key = $1 " " $2; if ($3 == "fail") failed[key] = 1
    if ($3 == "ok") { us[key] = us[key] " " $6; n[key]++; seen[$2] = 1; order[++rates] = $2
      # the rounds pair up in the order they ran: round i of one server with round i of the other
      if ($1 == "kamailio") k[$2, n[key]] = $6; else t[$2, n[key]] = $6 } }
  END {
    printf "| req/s | Kamailio us CPU/request | trunkline us CPU/request | trunkline / Kamailio |\n|---:|---:|---:|---:|\n"
    for (i = 1; i <= rates; i++) { r = order[i]; if (done[r]++) continue
      km = ("kamailio " r) in us && !failed["kamailio " r] ? median(us["kamailio " r]) : "-"
      tm = ("trunkline " r) in us && !failed["trunkline " r] ? median(us["trunkline " r]) : "-"
      ratios = ""; lo = ""; hi = ""
      for (j = 1; j <= rounds; j++) if ((r, j) in k && (r, j) in t && k[r, j] > 0) {
        q = t[r, j] / k[r, j]; ratios = ratios " " q
        if (lo == "" || q < lo) lo = q; if (hi == "" || q > hi) hi = q }
      if (km == "-" || tm == "-" || ratios == "") cell = "-"
      else if (rounds > 1) cell = sprintf("%.2f (%.2f-%.2f)", median(ratios), lo, hi)
      else cell = sprintf("%.2f", median(ratios))
      printf "| %s | %s | %s | %s |\n", r, km == "-" ? "-" : sprintf("%.1f", km), tm == "-" ? "-" : sprintf("%.1f", tm), cell
      if (km != "-") kbest = r; if (tm != "-") tbest = r }
    printf "\nhighest passing rate: Kamailio %s, trunkline %s req/s", kbest + 0, tbest + 0
    if (kbest > 0) printf " (trunkline/Kamailio %.2f)", tbest / kbest
    printf "\n"
    if (rounds > 1) printf "per rate: medians over %d rounds; the ratio is the median of the rounds'"'"' ratios (their range)\n", rounds
  }' "$work/steps"
