#!/usr/bin/env bash
# Calls per second through trunkline as a class-4 B2BUA (customer by source IP -> LCR ->
# vendor gateway, a rated CDR per call written to SQLite by the writer thread), side by side
# in ONE run with Kamailio 5.6 as a transaction-stateful record-routing proxy
# (bench/peers/kamailio/proxy.cfg: tm + rr + t_relay, `-x tlsf`, KAM_CHILDREN=1 worker: one
# core against trunkline's one loop + CDR writer thread) on the same scenario:
#   SIPp uac (bench/peers/kamailio/sipp/uac_rr.xml, no pause: BYE right after the ACK)
#     -> server -> SIPp uas (sipp/uas_rr_200.xml: INVITE -> 200, ACK, BYE -> 200; -aa answers
#        trunkline's OPTIONS probes of the vendor gateway, sent every 30 s)
# so a call is INVITE/(100)/200/ACK/BYE/200 on both legs. Callee 15551234567 (-s).
# trunkline's database is made fresh with trunkctl: customer account 1001 (balance 1e8, rate
# group retail: prefix 1 at 0.10/min), its mapping gateway `cust` on 127.0.0.1 (auth ip),
# vendor account 2001 (group vend: prefix 1 at 0.05/min) and its routing gateway `vend1`
# (127.0.0.1:UAS_PORT, prefixes 1). trunkline runs with --quiet and the defaults (prepaid
# on, session timers on, max_transactions 1,000,000); TL_TOML="..." adds config lines.
#
# Phases (PHASES, in this order; both servers are started once and stay up):
#   hold     memory per active call, on the fresh servers (before the rate steps touch any
#            memory): HOLD_CALLS calls at HOLD_RATE/s held HOLD_MS (uac -d). Memory is sampled
#            every second: (sample - baseline) / active calls (SIPp's CurrentCall), taken
#            (a) 2 s after the last call is set up (the INVITE transactions still live: trunkline
#            keeps them 32 s, RFC 6026 Timer L/M; Kamailio 5 s in its wait timer) and (b) at
#            ramp + 34 s when the calls still run but every INVITE transaction has ended
#            (needs HOLD_MS > ramp + 35 s). trunkline: VmRSS; Kamailio: PSS summed over its
#            processes (its transactions live in shared memory mapped by all of them).
#            Kamailio without the dialog module keeps no state per established call at all.
#   steps    RATES, DURATION s each (-m rate*DURATION), alternating the servers per rate; a
#            failed step is tried once more after COOLDOWN, then that server stops stepping.
#            PASS = <= 0.1 % failed calls, every call finished, SIPp offered >= 95 % of the
#            target. CPU us per call = the server's utime+stime delta (/proc/PID/stat, all
#            threads / all Kamailio processes) / successful calls; loop_cpu_pct = trunkline's
#            event-loop thread alone (the rest of srv_cpu_pct is the CDR writer thread).
#   sustain  both servers restarted (same database), then SUSTAIN_S (60) s at each server's
#            highest passing rate (SUSTAIN_RATE overrides); memory sampled every 5 s: the resident memory after 60 s and its growth over the
#            last half (bounded or not).
#   apipoll  trunkline only (not in the default PHASES): the management API must not slow calls
#            (issue 11). For each rate of RATES, the same step twice, in alternating order: once
#            plain and once while a client polls GET /metrics and GET /api/calls every 100 ms
#            (curl, a read token); the highest passing rate and CPU us/call of each, and the
#            ratio polled/plain (goal: the polled rate within 5 % of the plain one).
#   callgrind trunkline only, under valgrind --tool=callgrind, fresh database: CG_CALLS (2,000)
#            calls at CG_RATE (50)/s; counters zeroed after start-up and dumped after the
#            calls: instructions per call and the top 10 functions by inclusive cost. At
#            100/s valgrind (which runs one thread at a time: a CDR commit stalls the loop)
#            already makes SIPp retransmit, which inflates the count; the figure also depends
#            on the rate (CDR batch size, the once-a-second database poll).
# Printed: the steps table, per server the highest passing rate, CPU us/call there and at the
# highest rate both passed, memory per call, RSS after SUSTAIN_S, and the ratios t/k.
#
#   bench/run_calls_bench.sh [BUILD_DIR]          (default build-me; needs trunkline, trunkctl)
#   env: RATES="1000 2000 4000 6000 8000"  DURATION=10  COOLDOWN=3  RETRY_FAIL=1
#        PHASES="hold steps sustain callgrind"  SERVERS="trunkline kamailio"
#        HOLD_RATE=400 HOLD_CALLS=4000 HOLD_MS=50000  SUSTAIN_S=60 SUSTAIN_RATE=(best)
#        CG_CALLS=2000 CG_RATE=50  KAM_CHILDREN=1 KAM_ALLOC=tlsf KAM_SHM_MB=3072
#        TL_QUIET=1 (0: trunkline logs every message and call; for debugging at low rates)
#        TL_PRELOAD="" (a library preloaded into trunkline, e.g. another malloc, to compare)
#        TL_TOML="" (extra TOML lines for trunkline, e.g. $'[calls]\nprepaid = false')
#        SIPP_BEHAVIORS="all,-abortunexp"  (late/reordered messages are ignored, and counted
#        in the `reordered` column, instead of failing the call)
#        TL_PORT=29170 KAM_PORT=29171 UAC_PORT=29172 UAS_PORT=29173 API_PORT=29174  BENCH_OUT=/tmp/...
# Everything binds to 127.0.0.1; every process is started here and stopped by its PID; every
# SIPp run is bounded by -m, -timeout, -recv_timeout and an outer `timeout`. ~11 min with the
# defaults on 2 cores.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build-me}
[[ $build = /* ]] || build="$root/$build"
TRUNKLINE="$build/server/trunkline"
TRUNKCTL="$build/tools/trunkctl/trunkctl"
PEERS="$root/bench/peers/kamailio"
# shellcheck source=peers/kamailio/lib/common.sh
source "$PEERS/lib/common.sh"    # PID tracking + cleanup trap, start_kamailio, start_sipp, ...

RATES=${RATES:-"1000 2000 4000 6000 8000"}
DURATION=${DURATION:-10}
COOLDOWN=${COOLDOWN:-3}
RETRY_FAIL=${RETRY_FAIL:-1}
PHASES=${PHASES:-"hold steps sustain callgrind"}
SERVERS=${SERVERS:-"trunkline kamailio"}
HOLD_RATE=${HOLD_RATE:-400}
HOLD_CALLS=${HOLD_CALLS:-4000}
HOLD_MS=${HOLD_MS:-50000}
SUSTAIN_S=${SUSTAIN_S:-60}
SUSTAIN_RATE=${SUSTAIN_RATE:-}
CG_CALLS=${CG_CALLS:-2000}
CG_RATE=${CG_RATE:-50}
KAM_CHILDREN=${KAM_CHILDREN:-1}
KAM_ALLOC=${KAM_ALLOC:-tlsf}
TL_QUIET=${TL_QUIET:-1}
TL_TOML=${TL_TOML:-}
SIPP_BEHAVIORS=${SIPP_BEHAVIORS:-"all,-abortunexp"}
TL_PORT=${TL_PORT:-29170}
KAM_PORT=${KAM_PORT:-29171}
UAC_PORT=${UAC_PORT:-29172}
UAS_PORT=${UAS_PORT:-29173}
API_PORT=${API_PORT:-29174}
TL_TOKEN=""
CALLEE=15551234567
# tm keeps every transaction ~5 s after its final reply, ~14 KB each: ~140 KB of shm per call/s
export KAM_SHM_MB=${KAM_SHM_MB:-3072}
export KAM_EXTRA_ARGS="$(alloc_args "$KAM_ALLOC")"

has_phase() { [[ " $PHASES " == *" $1 "* ]]; }
has_server() { [[ " $SERVERS " == *" $1 "* ]]; }

need_tools
command -v sqlite3 >/dev/null || die "missing sqlite3 (scripts/setup.sh)"
if has_phase callgrind && has_server trunkline; then
	command -v valgrind >/dev/null && command -v callgrind_control >/dev/null &&
		command -v callgrind_annotate >/dev/null || die "missing valgrind (apt-get install valgrind)"
fi
[ -x "$TRUNKLINE" ] && [ -x "$TRUNKCTL" ] || die "no $TRUNKLINE / $TRUNKCTL: build first"
require_free_ports "$TL_PORT" "$KAM_PORT" "$UAC_PORT" "$UAS_PORT" "$API_PORT"
if has_phase apipoll; then command -v curl >/dev/null || die "missing curl (scripts/setup.sh)"; fi
OUT="${BENCH_OUT:-${TMPDIR:-/tmp}/trunkline-calls-bench}/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
log "artifacts: $OUT"
STEPS="$OUT/steps.tsv"
printf 'server\trate\ttry\tverdict\tcreated\tok\tfailed\tretrans\tcps_offered\tcps_ok\trtt_ms\tsrv_cpu_pct\tloop_cpu_pct\tus_per_call\tuac_cpu_pct\tuas_cpu_pct\tdrops_srv\tdrops_uac\tdrops_uas\treordered\tsrv_rss_mb\tsrv_pss_mb\tunexpected\n' >"$STEPS"

# ---- servers --------------------------------------------------------------------------------
make_tl_db() { # DB: the customer, the vendor and their gateways, with trunkctl
	local db=$1 ctl
	ctl() { "$TRUNKCTL" --db "$db" "$@" >>"$OUT/trunkctl.log" 2>&1 || die "trunkctl $* failed (see $OUT/trunkctl.log)"; }
	printf 'prefix,price,increment\n1,0.10,1\n' >"$OUT/retail.csv"
	printf 'prefix,price,increment\n1,0.05,1\n' >"$OUT/vend.csv"
	ctl rates import retail "$OUT/retail.csv"
	ctl rates import vend "$OUT/vend.csv"
	ctl accounts add 1001 --kind customer --balance 100000000 --rate-group retail
	ctl accounts add 2001 --kind vendor --rate-group vend
	ctl gateway add customer cust --account 1001 --ips 127.0.0.1
	ctl gateway add vendor vend1 --vendor-account 2001 --prefixes 1 --host 127.0.0.1 --port "$UAS_PORT"
	TL_TOKEN=$("$TRUNKCTL" --db "$db" token add bench --scope read) || die "trunkctl token add failed"
}

TL_PID="" KAM_PID=""
start_trunkline() { # DB LOG [wrapper...] -> TL_PID
	local db=$1 lg=$2 n args
	shift 2
	args=(--db "$db" --udp "127.0.0.1:$TL_PORT" --tcp off --api "127.0.0.1:$API_PORT")
	[ "$TL_QUIET" = 1 ] && args+=(--quiet)
	[ -n "$TL_TOML" ] && { printf '%s\n' "$TL_TOML" >"$OUT/trunkline.toml"; args+=(--config "$OUT/trunkline.toml"); }
	[ -n "${TL_PRELOAD:-}" ] && [ $# -eq 0 ] && set -- env LD_PRELOAD="$TL_PRELOAD"
	"$@" "$TRUNKLINE" "${args[@]}" >"$lg" 2>&1 &
	TL_PID=$!
	track_pid "$TL_PID"
	for ((n = 0; n < 600; n++)); do
		grep -q listening "$lg" && break
		alive "$TL_PID" || { tail -20 "$lg" >&2; die "trunkline exited during start-up"; }
		sleep 0.1
	done
	grep -q listening "$lg" || die "trunkline did not start"
	log "trunkline up: pid $TL_PID on 127.0.0.1:$TL_PORT ($(grep -m1 'routing:' "$lg" | cut -d' ' -f2-))"
}
tl_pids() { echo "$TL_PID"; }
# loop_ticks SERVER -> utime+stime of trunkline's loop thread (TID = PID); the writer thread's
# share is the process total minus this. "-" for Kamailio
loop_ticks() {
	[ "$1" = trunkline ] || { echo -; return; }
	sed 's/^.*) //' "/proc/$TL_PID/task/$TL_PID/stat" 2>/dev/null | awk '{print $12 + $13}'
}
pids_of() { case $1 in trunkline) tl_pids ;; kamailio) kam_pids ;; esac; }
port_of() { case $1 in trunkline) echo "$TL_PORT" ;; kamailio) echo "$KAM_PORT" ;; esac; }
rss_kb_sum() { # VmRSS (kB) summed over PIDs (Kamailio: counts its shared memory once per process)
	local p sum=0 k
	for p in "$@"; do
		k=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${k:-0}))
	done
	echo "$sum"
}
pss_kb() {
	local p sum=0 k
	for p in "$@"; do
		k=$(awk '/^Pss:/{print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${k:-0}))
	done
	echo "$sum"
}
# the memory figure of a server (kB): trunkline VmRSS (one process), Kamailio PSS summed
mem_kb() { case $1 in trunkline) rss_kb_sum "$TL_PID" ;; kamailio) pss_kb $(kam_pids) ;; esac; }
cdr_count() { sqlite3 -readonly -cmd '.timeout 5000' "$OUT/trunkline.db" 'SELECT count(*) FROM cdrs' 2>/dev/null || echo "?"; }
# SIPp's CurrentCall from the last line of a -trace_stat csv
sipp_current() {
	awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "CurrentCall") c = i; next }
		{ v = $c } END { print v + 0 }' "$1" 2>/dev/null
}

# ---- one SIPp run ---------------------------------------------------------------------------
# call_run SERVER TAG RATE M HOLD_MS SAMPLE_EVERY_S
#   uas + uac against SERVER; sets SUMMARY, VERDICT, US (server CPU us/call), ROW (steps.tsv
#   columns after server/rate/try); with SAMPLE_EVERY_S > 0 writes "t_s mem_kb rss_kb
#   active_calls" lines to $OUT/TAG.mem (t = s since the uac started; first line t=0)
call_run() {
	local srv=$1 tag=$2 r=$3 m=$4 hold=$5 every=$6
	local port secs s0 s1 l0 l1 loop t0 t1 a0 a1 u0 u1 d0 d1 dac das wall rc=0 uac uac_c uas uas_c next now el reord unexp
	port=$(port_of "$srv")
	secs=$(((m + r - 1) / r + hold / 1000))   # nominal length
	start_sipp "$tag-uas" $((secs + 70)) -sf "$PEERS/sipp/uas_rr_200.xml" -i 127.0.0.1 -p "$UAS_PORT" \
		-m $((2 * m + 1000)) -aa -timeout $((secs + 60))s -recv_timeout $((hold + 10000)) -max_recv_loops 10000 \
		-default_behaviors "$SIPP_BEHAVIORS"
	uas=$SIPP_PID; uas_c=$SIPP_CPID
	sleep 0.5
	d0=$(udp_drops "$port")
	[ "$every" -gt 0 ] && echo "0 $(mem_kb "$srv") $(rss_kb_sum $(pids_of "$srv")) 0" >"$OUT/$tag.mem"
	s0=$(proc_ticks $(pids_of "$srv")); l0=$(loop_ticks "$srv"); t0=$(now_s)
	start_sipp "$tag" $((secs + 60)) 127.0.0.1:"$port" -sf "$PEERS/sipp/uac_rr.xml" -s "$CALLEE" \
		-i 127.0.0.1 -p "$UAC_PORT" -r "$r" -rp 1000 -m "$m" -l $((r * 3 + 100 + m * (hold > 0))) -d "$hold" \
		-timeout $((secs + 45))s -recv_timeout 10000 -max_recv_loops 10000 -max_sched_loops 10000 \
		-default_behaviors "$SIPP_BEHAVIORS"
	uac=$SIPP_PID; uac_c=$SIPP_CPID
	# SIPp's CPU must be read while it is alive: poll, keep the last reading
	a0=$(proc_ticks "$uac_c"); u0=$(proc_ticks "$uas_c"); a1=$a0; u1=$u0; dac=0; das=0; next=$every
	while sipp_running "$uac" "$uac_c"; do
		a1=$(proc_ticks "$uac_c"); u1=$(proc_ticks "$uas_c")
		dac=$(udp_drops "$UAC_PORT"); das=$(udp_drops "$UAS_PORT")
		if [ "$every" -gt 0 ]; then
			now=$(now_s)
			el=$(awk -v a="$t0" -v b="$now" 'BEGIN{printf "%d", b - a}')
			if [ "$el" -ge "$next" ]; then
				echo "$el $(mem_kb "$srv") $(rss_kb_sum $(pids_of "$srv")) $(sipp_current "$OUT/$tag.csv")" >>"$OUT/$tag.mem"
				next=$((el + every))
			fi
		fi
		sleep 0.2
	done
	wait_pid "$uac" || rc=$?
	t1=$(now_s); s1=$(proc_ticks $(pids_of "$srv")); l1=$(loop_ticks "$srv"); d1=$(udp_drops "$port")
	stop_pid "$uas" 8
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')
	SUMMARY=$(sipp_summary "$OUT/$tag.csv")
	# a held run's average rate includes the hold: judge its failures only
	VERDICT=$(MIN_OFFERED_PCT=$((hold > 0 ? 0 : ${MIN_OFFERED_PCT:-95})) step_verdict "$r" "$SUMMARY" "$m")
	US=$(awk -v d=$((s1 - s0)) -v hz="$CLK_TCK" -v ok="$(kv ok "$SUMMARY")" \
		'BEGIN{ if (ok > 0) printf "%.1f", 1e6 * d / hz / ok; else print "-" }')
	reord=$(cat "$OUT/$tag.errors" "$OUT/$tag-uas.errors" 2>/dev/null | grep -c 'Continuing call on unexpected message')
	# what the server answered the uac instead of 100/200, e.g. "503x12" (from SIPp's error
	# trace, capped at 5 MB: the counts may be partial)
	unexp=$(grep -o "received 'SIP/2.0 [0-9]*" "$OUT/$tag.errors" 2>/dev/null | awk '{print $3}' |
		sort | uniq -c | awk '{printf "%s%sx%s", sep, $2, $1; sep = ","}')
	loop=-
	[ "$l0" != - ] && loop=$(cpu_pct $((l1 - l0)) "$wall")
	ROW=$(printf '%s\t' "$(kv created "$SUMMARY")" "$(kv ok "$SUMMARY")" "$(kv failed "$SUMMARY")" \
		"$(kv retrans "$SUMMARY")" "$(kv cps_created "$SUMMARY")" "$(kv cps_ok "$SUMMARY")" \
		"$(kv rtt_ms "$SUMMARY")" "$(cpu_pct $((s1 - s0)) "$wall")" "$loop" "$US" \
		"$(cpu_pct $((a1 - a0)) "$wall")" "$(cpu_pct $((u1 - u0)) "$wall")" \
		$((d1 - d0)) "$dac" "$das" "$reord" \
		"$(awk -v k="$(rss_kb_sum $(pids_of "$srv"))" 'BEGIN{printf "%.1f", k / 1024}')" \
		"$(pss_mb $(pids_of "$srv"))")
	ROW="${ROW}${unexp:--}"
	log "  $tag uac_rc=$rc $VERDICT us/call=$US [$SUMMARY] unexpected answers: ${unexp:-none}"
}

# ---- start both servers ---------------------------------------------------------------------
if has_server trunkline; then
	log "trunkline database: $OUT/trunkline.db (trunkctl)"
	make_tl_db "$OUT/trunkline.init.db"
	cp "$OUT/trunkline.init.db" "$OUT/trunkline.db"
	start_trunkline "$OUT/trunkline.db" "$OUT/trunkline.log"
fi
if has_server kamailio; then
	start_kamailio "$PEERS/proxy.cfg" kam "$KAM_CHILDREN" \
		-A "KAM_PORT=$KAM_PORT" -A "UAS_URI=\"sip:127.0.0.1:$UAS_PORT\""
fi
sleep 1

declare -A BEST BEST_US US_AT MEM_A MEM_B N_A N_B SUS_RATE SUS_MEM SUS_GROW SUS_VERDICT SUS_US
total_ok_tl=0
tl_ok() { [ "$1" = trunkline ] && total_ok_tl=$((total_ok_tl + $(kv ok "$SUMMARY"))); return 0; }

# ---- phase: hold (memory per active call) ---------------------------------------------------
if has_phase hold; then
	ramp=$((HOLD_CALLS / HOLD_RATE))
	for s in $SERVERS; do
		log "$s: holding $HOLD_CALLS calls (${HOLD_RATE}/s, ${HOLD_MS} ms each)"
		call_run "$s" "$s-hold" "$HOLD_RATE" "$HOLD_CALLS" "$HOLD_MS" 1
		tl_ok "$s"
		printf '%s\t%s\t%s\t%s\t%s\n' "$s" "hold@$HOLD_RATE" 1 "$VERDICT" "$ROW" >>"$STEPS"
		# baseline = t 0; (a) = the sample nearest ramp + 2 s; (b) = nearest ramp + 34 s
		read -r MEM_A[$s] N_A[$s] < <(awk -v t=$((ramp + 2)) 'NR == 1 {b = $2; next}
			{ d = $1 - t; if (d < 0) d = -d; if (best == "" || d < best) { best = d; m = $2 - b; n = $4 } }
			END { if (n > 0) printf "%.0f %d\n", m * 1024 / n, n; else print "- 0" }' "$OUT/$s-hold.mem")
		if [ "$HOLD_MS" -gt $(((ramp + 35) * 1000)) ]; then
			read -r MEM_B[$s] N_B[$s] < <(awk -v t=$((ramp + 34)) 'NR == 1 {b = $2; next}
				{ d = $1 - t; if (d < 0) d = -d; if (best == "" || d < best) { best = d; m = $2 - b; n = $4 } }
				END { if (n > 0) printf "%.0f %d\n", m * 1024 / n, n; else print "- 0" }' "$OUT/$s-hold.mem")
		else
			MEM_B[$s]=- N_B[$s]=0
		fi
		log "$s: memory per active call ${MEM_A[$s]} B (${N_A[$s]} calls, INVITE transactions alive)," \
			"${MEM_B[$s]} B (${N_B[$s]} calls, INVITE transactions ended); samples: $OUT/$s-hold.mem"
		sleep "$COOLDOWN"
	done
fi

# ---- phase: steps (alternating per rate) ----------------------------------------------------
declare -A STEPPING
for s in $SERVERS; do STEPPING[$s]=1 BEST[$s]=0 BEST_US[$s]=-; done
if has_phase steps; then
	i=0
	for r in $RATES; do
		order=$SERVERS
		# alternate which server goes first, so neither always runs right after the other's step
		[ $((i % 2)) = 1 ] && order=$(echo "$SERVERS" | awk '{for (j = NF; j > 0; j--) printf "%s ", $j}')
		i=$((i + 1))
		for s in $order; do
			[ "${STEPPING[$s]}" = 1 ] || continue
			ok_step=0
			for try in 1 2; do
				[ "$try" = 2 ] && { [ "$RETRY_FAIL" = 1 ] || break; sleep "$COOLDOWN"; }
				call_run "$s" "$s-r$r-t$try" "$r" $((r * DURATION)) 0 0
				tl_ok "$s"
				printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$r" "$try" "$VERDICT" "$ROW" | tee -a "$STEPS"
				[ "$VERDICT" = PASS ] && { ok_step=1; break; }
			done
			if [ "$ok_step" = 1 ]; then
				BEST[$s]=$r BEST_US[$s]=$US US_AT[$s-$r]=$US
			else
				STEPPING[$s]=0
			fi
			sleep "$COOLDOWN"
		done
	done
fi

# ---- phase: apipoll (calls with and without a client polling the API) ----------------------
# api_poller SECONDS: GET /metrics and GET /api/calls every 100 ms, bounded in count; -> POLL_PID
api_poller() {
	local n=$(($1 * 10)) k
	(for ((k = 0; k < n; k++)); do
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$API_PORT/metrics"
		curl -s -m 2 -o /dev/null -H "Authorization: Bearer $TL_TOKEN" "http://127.0.0.1:$API_PORT/api/calls"
		sleep 0.1
	done) &
	POLL_PID=$!
	track_pid "$POLL_PID"
}
declare -A POLL_BEST=([plain]=0 [polled]=0) POLL_US=([plain]=- [polled]=-) POLL_ON=([plain]=1 [polled]=1)
if has_phase apipoll && has_server trunkline; then
	i=0
	for r in $RATES; do
		order="plain polled"
		[ $((i % 2)) = 1 ] && order="polled plain"
		i=$((i + 1))
		for mode in $order; do
			[ "${POLL_ON[$mode]}" = 1 ] || continue
			[ "$mode" = polled ] && api_poller $((DURATION + 20))
			call_run trunkline "api-$mode-r$r" "$r" $((r * DURATION)) 0 0
			[ "$mode" = polled ] && stop_pid "$POLL_PID" 5
			tl_ok trunkline
			printf '%s\t%s\t%s\t%s\t%s\n' "trunkline-$mode" "$r" 1 "$VERDICT" "$ROW" | tee -a "$STEPS"
			if [ "$VERDICT" = PASS ]; then POLL_BEST[$mode]=$r POLL_US[$mode]=$US; else POLL_ON[$mode]=0; fi
			sleep "$COOLDOWN"
		done
	done
fi

# ---- phase: sustain (resident memory after SUSTAIN_S at the highest passing rate) ----------
if has_phase sustain; then
	# fresh processes: freed memory stays resident, so the memory after SUSTAIN_S must not carry
	# the high-water mark of an earlier (failed, retransmitting) step
	if has_server kamailio; then
		stop_pid "$KAM_PID" 10
		start_kamailio "$PEERS/proxy.cfg" kam-sustain "$KAM_CHILDREN" \
			-A "KAM_PORT=$KAM_PORT" -A "UAS_URI=\"sip:127.0.0.1:$UAS_PORT\""
	fi
	if has_server trunkline; then
		stop_pid "$TL_PID" 15
		start_trunkline "$OUT/trunkline.db" "$OUT/trunkline-sustain.log"
	fi
	sleep 1
	for s in $SERVERS; do
		r=${SUSTAIN_RATE:-${BEST[$s]}}
		[ "${r:-0}" -gt 0 ] || { log "$s: no passing rate, no sustain run"; continue; }
		log "$s: ${SUSTAIN_S} s at $r calls/s"
		call_run "$s" "$s-sustain" "$r" $((r * SUSTAIN_S)) 0 5
		tl_ok "$s"
		printf '%s\t%s\t%s\t%s\t%s\n' "$s" "${SUSTAIN_S}s@$r" 1 "$VERDICT" "$ROW" | tee -a "$STEPS"
		SUS_RATE[$s]=$r SUS_VERDICT[$s]=$VERDICT SUS_US[$s]=$US
		# memory (MB) at the last sample and its growth over the second half of the run
		read -r SUS_MEM[$s] SUS_GROW[$s] < <(awk -v h=$((SUSTAIN_S / 2)) '
			{ t[NR] = $1; m[NR] = $2 }
			END { last = m[NR]; mid = m[1]; for (i = 1; i <= NR; i++) if (t[i] <= h) mid = m[i]
				printf "%.1f %+.1f\n", last / 1024, (last - mid) / 1024 }' "$OUT/$s-sustain.mem")
		log "$s: memory after ${SUSTAIN_S} s at $r/s: ${SUS_MEM[$s]} MB (${SUS_GROW[$s]} MB over the last half); samples: $OUT/$s-sustain.mem"
		sleep "$COOLDOWN"
	done
fi

# ---- stop the servers -----------------------------------------------------------------------
if has_server kamailio; then
	kam tm.stats >"$OUT/kam.tm_stats.txt" 2>&1
	kam core.shmmem >"$OUT/kam.shmmem.txt" 2>&1
	stop_pid "$KAM_PID" 10
fi
CDR_NOTE=""
if has_server trunkline; then
	cdr_live=$(cdr_count)
	stop_pid "$TL_PID" 15
	cdr_end=$(cdr_count)
	CDR_NOTE="trunkline CDRs: $cdr_live in SQLite right after the last step, $cdr_end after shutdown; successful SIPp calls: $total_ok_tl"
	log "$CDR_NOTE"
	tail -1 "$OUT/trunkline.log" >&2
fi

# ---- phase: callgrind (trunkline, instructions per call) ------------------------------------
CG_LINE="" CG_TOP=""
if has_phase callgrind && has_server trunkline; then
	log "callgrind: $CG_CALLS calls at $CG_RATE/s through trunkline under valgrind"
	cp "$OUT/trunkline.init.db" "$OUT/trunkline-cg.db"
	start_trunkline "$OUT/trunkline-cg.db" "$OUT/trunkline-cg.log" \
		valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p"
	sleep 2
	callgrind_control -z "$TL_PID" >/dev/null 2>&1 || log "callgrind_control -z failed"
	call_run trunkline "trunkline-cg" "$CG_RATE" "$CG_CALLS" 0 0
	printf '%s\t%s\t%s\t%s\t%s\n' "trunkline-callgrind" "$CG_RATE" 1 "$VERDICT" "$ROW" >>"$STEPS"
	sleep 1   # the last CDRs reach the writer thread
	callgrind_control -d "$TL_PID" >/dev/null 2>&1 || log "callgrind_control -d failed"
	sleep 1
	stop_pid "$TL_PID" 30
	cg=$(ls "$OUT"/callgrind.out.*.1 2>/dev/null | head -1)   # the -d dump: the calls only
	if [ -n "$cg" ]; then
		ok=$(kv ok "$SUMMARY")
		callgrind_annotate --inclusive=yes --threshold=100 "$cg" >"$OUT/callgrind.inclusive.txt" 2>&1
		ir=$(grep -m1 '^summary:' "$cg" | awk '{print $2}')
		[ -n "$ir" ] || ir=$(grep -m1 '^totals:' "$cg" | awk '{print $2}')
		CG_LINE=$(awk -v ir="$ir" -v n="$ok" 'BEGIN{ if (n > 0) printf "%.0f instructions per call (%d calls, %.0f Ir after start-up, writer thread included)", ir / n, n, ir; else print "no successful calls" }')
		# the top 10 below the event loop: wrappers (main, uv_run, libuv/libc internals without
		# symbols, thread start-up) are left out; the whole list is in callgrind.inclusive.txt
		CG_TOP=$(awk '/Ir +file:function/ {on = 1; next} on && /^ *[0-9,]+ /' "$OUT/callgrind.inclusive.txt" |
			grep -vE ':main |libc_start|below main|:uv_run |Loop::run\(\)|\?\?\?:0x[0-9a-f]+ |:clone |:start_thread |_State_impl' |
			head -10 | sed -E 's/ \[[^]]*\]$//; s/\?\?\?://; s/std::chrono::time_point<sip::MonoClock, std::chrono::duration<long, std::ratio<1l, 1000000000l> > >/Instant/g' |
			cut -c1-160)
	else
		CG_LINE="no callgrind dump (see $OUT/trunkline-cg.log)"
	fi
	log "callgrind: $CG_LINE"
fi

# ---- report ---------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "== calls: SIPp uac -> server -> SIPp uas, INVITE/200/ACK/BYE/200, no hold; ${DURATION}s steps"
echo "   trunkline: B2BUA + LCR + CDR (--quiet${TL_TOML:+, config: $(echo "$TL_TOML" | tr '\n' ' ')}); Kamailio: tm + rr proxy ($KAM_ALLOC, -n $KAM_CHILDREN)"
echo "   PASS = <=0.1% failed, all finished, SIPp offered >=95% of the target"
column -t -s $'\t' "$STEPS"
echo
printf '%-10s %14s %12s %20s %20s %14s %14s\n' server "max_pass_cps" "us/call@max" "B/active_call(a)" "B/active_call(b)" "mem_MB@sust" "growth_2nd_half"
for s in $SERVERS; do
	printf '%-10s %14s %12s %20s %20s %14s %14s\n' "$s" "${BEST[$s]}" "${BEST_US[$s]}" \
		"${MEM_A[$s]:--} (${N_A[$s]:-0})" "${MEM_B[$s]:--} (${N_B[$s]:-0})" \
		"${SUS_MEM[$s]:--}" "${SUS_GROW[$s]:--}"
done
if has_server trunkline && has_server kamailio; then
	printf '%-10s %14s %12s %20s %20s %14s\n' "ratio t/k" "$(ratio "${BEST[trunkline]}" "${BEST[kamailio]}")" \
		"$(ratio "${BEST_US[trunkline]}" "${BEST_US[kamailio]}")" \
		"$(ratio "${MEM_A[trunkline]:-}" "${MEM_A[kamailio]:-}")" "$(ratio "${MEM_B[trunkline]:-}" "${MEM_B[kamailio]:-}")" \
		"$(ratio "${SUS_MEM[trunkline]:-}" "${SUS_MEM[kamailio]:-}")"
	both=${BEST[trunkline]}
	[ "${BEST[kamailio]}" -lt "$both" ] && both=${BEST[kamailio]}
	if [ "$both" -gt 0 ]; then
		echo "at $both calls/s (highest rate both passed): us/call trunkline ${US_AT[trunkline-$both]}," \
			"kamailio ${US_AT[kamailio-$both]}, ratio t/k $(ratio "${US_AT[trunkline-$both]}" "${US_AT[kamailio-$both]}")"
	fi
fi
echo "memory: trunkline VmRSS, Kamailio PSS summed over its processes; (a) 2 s after the last of"
echo "  $HOLD_CALLS held calls was set up (INVITE transactions alive), (b) ${HOLD_MS} ms holds, sampled at"
echo "  ramp + 34 s (INVITE transactions ended); the number of active calls in brackets"
for s in $SERVERS; do
	[ -n "${SUS_RATE[$s]:-}" ] && echo "sustain $s: ${SUSTAIN_S} s at ${SUS_RATE[$s]}/s ${SUS_VERDICT[$s]}, us/call ${SUS_US[$s]}, memory ${SUS_MEM[$s]} MB (${SUS_GROW[$s]} MB in the last half)"
done
[ -n "$CDR_NOTE" ] && echo "$CDR_NOTE"
if [ -n "$CG_LINE" ]; then
	echo "callgrind (trunkline, $CG_CALLS calls at $CG_RATE/s): $CG_LINE"
	echo "top 10 inclusive:"
	echo "$CG_TOP"
fi
for s in $SERVERS; do
	echo "RESULT calls server=$s max_passing_rate=${BEST[$s]} us_per_call=${BEST_US[$s]} bytes_per_active_call=${MEM_A[$s]:--}/${MEM_B[$s]:--} mem_after_sustain_mb=${SUS_MEM[$s]:--}"
done
if has_phase apipoll && has_server trunkline; then
	echo "api polling (GET /metrics + GET /api/calls every 100 ms): highest passing rate plain ${POLL_BEST[plain]}/s" \
		"(${POLL_US[plain]} us/call), polled ${POLL_BEST[polled]}/s (${POLL_US[polled]} us/call)," \
		"ratio polled/plain $(ratio "${POLL_BEST[polled]}" "${POLL_BEST[plain]}")"
	echo "RESULT apipoll plain_rate=${POLL_BEST[plain]} polled_rate=${POLL_BEST[polled]} plain_us=${POLL_US[plain]} polled_us=${POLL_US[polled]}"
fi
echo "steps: $STEPS"
