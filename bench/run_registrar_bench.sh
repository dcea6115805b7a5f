#!/usr/bin/env bash
# REGISTER with digest auth (MD5, qop=auth) from SIPp, side by side in one run: trunkline's
# registrar (users imported with `trunkctl user add` into a temporary database, --quiet) and
# Kamailio's registrar (bench/peers/kamailio/registrar.cfg: auth_db on SQLite + usrloc in
# memory, `-x tlsf`, KAM_CHILDREN=1 worker: one core against trunkline's one loop).
# Users: bench/peers/kamailio/data/users.csv (10,000, realm = its domain field); scenario:
# bench/peers/kamailio/sipp/register_auth.xml. One registration = REGISTER -> 401 ->
# REGISTER + Authorization -> 200 (two transactions).
#
# Per server:
#   1. fill: every user registers once at FILL_RATE/s; memory per binding = (server memory
#      MEM_SETTLE s after the fill - memory before) / bindings, memory = PSS summed over the
#      server's processes (trunkline: one process, PSS ~ RSS; Kamailio keeps bindings in shared
#      memory that several of its processes map, which plain RSS would count more than once);
#      VmRSS of trunkline and Kamailio's main process are logged too. MEM_SETTLE (35 s) was
#      for trunkline's completed REGISTER transactions to end (Timer J = 32 s over UDP); it
#      keeps none now (see below), so the figure is the bindings plus heap the fill touched;
#   2. steps: RATES, DURATION s each (SIPp -m rate*DURATION, every run starts again at the
#      first user, so these are refreshes of existing bindings); PASS = <= 0.1% failed, every
#      registration finished, SIPp really offered >= 95% of the target; a failed step is tried
#      once more, then the stepping stops. CPU us per registration = the server processes'
#      utime+stime delta (/proc/PID/stat) / successful registrations.
# Printed: one row per step, then per server the highest passing rate, CPU us/registration at
# that rate and memory per binding, and the ratios trunkline/Kamailio.
# trunkline answers both legs of a registration statelessly (the 401, and the 200 whose
# retransmission its registrar recognises; DESIGN.md "Memory"), so neither keeps a completed
# transaction for Timer J; DURATION=60 gives the resident memory after 60 s at a rate.
#
#   bench/run_registrar_bench.sh [BUILD_DIR]        (default build; needs trunkline, trunkctl)
#   env: RATES="2000 4000 6000 8000 10000 12000 14000 16000"  DURATION=10  FILL_RATE=250
#        MEM_SETTLE=35
#        KAM_CHILDREN=1  KAM_ALLOC=tlsf  SERVERS="trunkline kamailio"  COOLDOWN=2  RETRY_FAIL=1
#        TL_PORT=29160 KAM_PORT=29161 UAC_PORT=29162  USERS_CSV=...  BENCH_OUT=/tmp/...
#        TL_USERS_DB=<an earlier run's trunkline.users.db> (skips the trunkctl import)
# trunkline runs with register_retry = 0 (Kamailio has no such rule; one lost-nonce failure
# burst must not suspend 127.0.0.1 for the rest of the run) and algorithms = ["MD5"].
# Everything binds to 127.0.0.1; every process is started here and stopped by its PID; every
# SIPp run is bounded by -m, -timeout, -recv_timeout and an outer `timeout`.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[[ $build = /* ]] || build="$root/$build"
TRUNKLINE="$build/server/trunkline"
TRUNKCTL="$build/tools/trunkctl/trunkctl"
PEERS="$root/bench/peers/kamailio"
# shellcheck source=peers/kamailio/lib/common.sh
source "$PEERS/lib/common.sh"    # PID tracking + cleanup trap, start_kamailio, start_sipp, ...

RATES=${RATES:-"2000 4000 6000 8000 10000 12000 14000 16000"}
DURATION=${DURATION:-10}
FILL_RATE=${FILL_RATE:-250}
KAM_CHILDREN=${KAM_CHILDREN:-1}
KAM_ALLOC=${KAM_ALLOC:-tlsf}
SERVERS=${SERVERS:-"trunkline kamailio"}
COOLDOWN=${COOLDOWN:-2}
MEM_SETTLE=${MEM_SETTLE:-35}
RETRY_FAIL=${RETRY_FAIL:-1}
TL_PORT=${TL_PORT:-29160}
KAM_PORT=${KAM_PORT:-29161}
UAC_PORT=${UAC_PORT:-29162}
USERS_CSV=${USERS_CSV:-$PEERS/data/users.csv}
export KAM_SHM_MB=${KAM_SHM_MB:-512}
export KAM_EXTRA_ARGS="$(alloc_args "$KAM_ALLOC")"

need_tools
command -v sqlite3 >/dev/null || die "missing sqlite3 (scripts/setup.sh)"
[ -x "$TRUNKLINE" ] && [ -x "$TRUNKCTL" ] || die "no $TRUNKLINE / $TRUNKCTL: build first"
require_free_ports "$TL_PORT" "$KAM_PORT" "$UAC_PORT"
OUT="${BENCH_OUT:-${TMPDIR:-/tmp}/trunkline-registrar-bench}/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
log "artifacts: $OUT"
NUSERS=$(($(wc -l <"$USERS_CSV") - 1))
REALM=$(awk -F';' 'NR == 2 {print $3}' "$USERS_CSV")
STEPS="$OUT/steps.tsv"
printf 'server\trate\ttry\tverdict\tcreated\tok\tfailed\tretrans\tcps_offered\tcps_ok\trtt_ms\tsrv_cpu_pct\tus_per_reg\tsipp_cpu_pct\tdrops_srv\tdrops_uac\tsrv_pss_mb\tunexpected\n' >"$STEPS"

SRV_PIDS_FN=""   # prints every PID of the server under test
tl_pids() { echo "$TL_PID"; }

# sipp_reg TAG RATE M -> one bounded SIPp run of register_auth.xml against SRV_PORT; sets
# SUMMARY, VERDICT, US (server CPU us/registration), ROW (columns of steps.tsv)
sipp_reg() {
	local tag=$1 r=$2 m=$3 s0 s1 t0 t1 a0 a1 d0 d1 du wall rc=0 uac uac_c secs
	secs=$(((m + r - 1) / r))   # the run's nominal length
	d0=$(udp_drops "$SRV_PORT")
	s0=$(proc_ticks $($SRV_PIDS_FN)); t0=$(now_s)
	start_sipp "$tag" $((secs + 60)) 127.0.0.1:"$SRV_PORT" -sf "$PEERS/sipp/register_auth.xml" \
		-inf "$USERS_CSV" -t u1 -i 127.0.0.1 -p "$UAC_PORT" -r "$r" -rp 1000 -m "$m" \
		-l $((r * 3 + 100)) -timeout $((secs + 45))s -recv_timeout 10000 \
		-max_recv_loops 10000 -max_sched_loops 10000 -default_behaviors all,-bye
	uac=$SIPP_PID; uac_c=$SIPP_CPID
	a0=$(proc_ticks "$uac_c"); a1=$a0; du=0
	while sipp_running "$uac" "$uac_c"; do
		a1=$(proc_ticks "$uac_c"); du=$(udp_drops "$UAC_PORT")
		sleep 0.2
	done
	wait_pid "$uac" || rc=$?
	t1=$(now_s); s1=$(proc_ticks $($SRV_PIDS_FN)); d1=$(udp_drops "$SRV_PORT")
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')
	SUMMARY=$(sipp_summary "$OUT/$tag.csv")
	VERDICT=$(step_verdict "$r" "$SUMMARY" "$m")
	US=$(awk -v d=$((s1 - s0)) -v hz="$CLK_TCK" -v ok="$(kv ok "$SUMMARY")" \
		'BEGIN{ if (ok > 0) printf "%.1f", 1e6 * d / hz / ok; else print "-" }')
	ROW=$(printf '%s\t' "$(kv created "$SUMMARY")" "$(kv ok "$SUMMARY")" "$(kv failed "$SUMMARY")" \
		"$(kv retrans "$SUMMARY")" "$(kv cps_created "$SUMMARY")" "$(kv cps_ok "$SUMMARY")" \
		"$(kv rtt_ms "$SUMMARY")" "$(cpu_pct $((s1 - s0)) "$wall")" "$US" \
		"$(cpu_pct $((a1 - a0)) "$wall")" $((d1 - d0)) "$du" "$(pss_mb $($SRV_PIDS_FN))")
	# what the server answered instead of 401/200, e.g. "503x12195" (from SIPp's error trace,
	# which is capped at 5 MB: the counts may be partial)
	UNEXP=$(grep -o "received 'SIP/2.0 [0-9]*" "$OUT/$tag.errors" 2>/dev/null | awk '{print $3}' |
		sort | uniq -c | awk '{printf "%s%sx%s", sep, $2, $1; sep = ","}')
	ROW="${ROW}${UNEXP:--}"
	log "  $tag sipp_rc=$rc $VERDICT us/reg=$US [$SUMMARY] unexpected answers: ${UNEXP:-none}"
}

pss_kb() { # PSS (kB) summed over PIDs
	local p sum=0 k
	for p in "$@"; do
		k=$(awk '/^Pss:/{print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${k:-0}))
	done
	echo "$sum"
}
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null; }

bindings_of() { # SERVER -> current number of bindings
	case $1 in
	trunkline) sqlite3 -readonly -cmd '.timeout 5000' "$OUT/trunkline.db" \
		'SELECT count(*) FROM reg_binding' 2>/dev/null || echo "?" ;;
	kamailio) kam stats.get_statistics location_contacts 2>/dev/null | awk '{print $NF}' ;;
	esac
}

declare -A BEST BEST_US MEM_B FILL_US NBIND US_AT
run_server() { # SERVER
	local srv=$1 p0 p1 r0 r1 n r try ok_step
	case $srv in
	trunkline)
		# users: the HA1s come from trunkctl (one call per user, ~2 min for 10,000), or from the
		# users-only copy an earlier run left (TL_USERS_DB=.../trunkline.users.db)
		if [ -n "${TL_USERS_DB:-}" ]; then
			log "users: copying $TL_USERS_DB"
			cp "$TL_USERS_DB" "$OUT/trunkline.db" || die "cannot copy $TL_USERS_DB"
		else
			log "importing $NUSERS users into $OUT/trunkline.db with trunkctl (realm $REALM) ..."
			awk -F';' 'NR > 1 && NF >= 3 {print $1, $2}' "$USERS_CSV" | while read -r u p; do
				"$TRUNKCTL" --db "$OUT/trunkline.db" user add "$u" --realm "$REALM" --password "$p" >/dev/null \
					|| { echo "trunkctl user add $u failed" >&2; exit 1; }
			done || die "user import failed"
			cp "$OUT/trunkline.db" "$OUT/trunkline.users.db"
		fi
		n=$(sqlite3 -readonly "$OUT/trunkline.db" "SELECT count(*) FROM sip_user WHERE realm = '$REALM'")
		[ "$n" = "$NUSERS" ] || die "trunkline database has $n users of realm $REALM, not $NUSERS"
		cat >"$OUT/trunkline.toml" <<-EOF
			[registrar]
			realm = "$REALM"
			algorithms = ["MD5"]            # SIPp answers MD5 only
			register_retry = 0
		EOF
		"$TRUNKLINE" --config "$OUT/trunkline.toml" --db "$OUT/trunkline.db" \
			--udp "127.0.0.1:$TL_PORT" --tcp off --quiet >"$OUT/trunkline.log" 2>&1 &
		TL_PID=$!
		track_pid "$TL_PID"
		for ((n = 0; n < 100; n++)); do
			grep -q listening "$OUT/trunkline.log" && break
			alive "$TL_PID" || { cat "$OUT/trunkline.log" >&2; die "trunkline exited during start-up"; }
			sleep 0.1
		done
		grep -q listening "$OUT/trunkline.log" || die "trunkline did not start"
		SRV_PIDS_FN=tl_pids SRV_PORT=$TL_PORT
		;;
	kamailio)
		"$PEERS/lib/mk-subscriber-db.sh" "$USERS_CSV" "$OUT/subscriber.sqlite" || die "subscriber db"
		start_kamailio "$PEERS/registrar.cfg" kam "$KAM_CHILDREN" \
			-A "KAM_PORT=$KAM_PORT" -A "DBURL=\"sqlite://$OUT/subscriber.sqlite\""
		SRV_PIDS_FN=kam_pids SRV_PORT=$KAM_PORT
		;;
	esac
	sleep 1
	p0=$(pss_kb $($SRV_PIDS_FN)); r0=$(rss_kb "$($SRV_PIDS_FN | awk '{print $1}')")
	# 1. fill: every user once
	sipp_reg "$srv-fill" "$FILL_RATE" "$NUSERS"
	printf '%s\t%s\t%s\t%s\t%s\n' "$srv" "fill@$FILL_RATE" 1 "$VERDICT" "$ROW" | tee -a "$STEPS"
	FILL_US[$srv]=$US
	sleep "$MEM_SETTLE"
	n=$(bindings_of "$srv")
	p1=$(pss_kb $($SRV_PIDS_FN)); r1=$(rss_kb "$($SRV_PIDS_FN | awk '{print $1}')")
	NBIND[$srv]=$n
	MEM_B[$srv]=$(awk -v a="$p0" -v b="$p1" -v n="$n" 'BEGIN{ if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }')
	log "$srv: $n bindings; PSS $p0 -> $p1 kB, VmRSS (main process) $r0 -> $r1 kB: ${MEM_B[$srv]} B/binding"
	# 2. rate steps
	BEST[$srv]=0 BEST_US[$srv]=-
	for r in $RATES; do
		ok_step=0
		for try in 1 2; do
			[ "$try" = 2 ] && { [ "$RETRY_FAIL" = 1 ] || break; sleep "$COOLDOWN"; }
			sipp_reg "$srv-r$r-t$try" "$r" $((r * DURATION))
			printf '%s\t%s\t%s\t%s\t%s\n' "$srv" "$r" "$try" "$VERDICT" "$ROW" | tee -a "$STEPS"
			[ "$VERDICT" = PASS ] && { ok_step=1; break; }
		done
		[ "$ok_step" = 1 ] || break
		BEST[$srv]=$r BEST_US[$srv]=$US US_AT[$srv-$r]=$US
		sleep "$COOLDOWN"
	done
	log "$srv: bindings at the end $(bindings_of "$srv")"
	case $srv in
	trunkline) stop_pid "$TL_PID" 15 ;;
	kamailio) stop_pid "$KAM_PID" 10 ;;
	esac
}

for s in $SERVERS; do run_server "$s"; done

echo
echo "== REGISTER + digest auth (MD5), $NUSERS users, ${DURATION}s steps; trunkline vs Kamailio ($KAM_ALLOC, -n $KAM_CHILDREN)"
echo "   PASS = <=0.1% failed, all finished, SIPp offered >=95% of the target"
column -t -s $'\t' "$STEPS"
echo
printf '%-10s %18s %16s %16s %16s %10s\n' server "max_pass_reg/s" "us/reg@max" "us/reg(fill)" "bytes/binding" bindings
for s in $SERVERS; do
	printf '%-10s %18s %16s %16s %16s %10s\n' "$s" "${BEST[$s]}" "${BEST_US[$s]}" "${FILL_US[$s]}" "${MEM_B[$s]}" "${NBIND[$s]}"
done
if [[ " $SERVERS " == *" trunkline "* && " $SERVERS " == *" kamailio "* ]]; then
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }
	printf '%-10s %18s %16s %16s %16s\n' "ratio t/k" "$(ratio "${BEST[trunkline]}" "${BEST[kamailio]}")" \
		"$(ratio "${BEST_US[trunkline]}" "${BEST_US[kamailio]}")" \
		"$(ratio "${FILL_US[trunkline]}" "${FILL_US[kamailio]}")" \
		"$(ratio "${MEM_B[trunkline]}" "${MEM_B[kamailio]}")"
	# CPU per registration at the same load: the highest rate both passed
	both=${BEST[trunkline]}
	[ "${BEST[kamailio]}" -lt "$both" ] && both=${BEST[kamailio]}
	if [ "$both" -gt 0 ]; then
		echo "at $both reg/s (highest rate both passed): us/reg trunkline ${US_AT[trunkline-$both]}," \
			"kamailio ${US_AT[kamailio-$both]}, ratio t/k $(ratio "${US_AT[trunkline-$both]}" "${US_AT[kamailio-$both]}")"
	fi
fi
for s in $SERVERS; do
	echo "RESULT registrar server=$s max_passing_rate=${BEST[$s]} us_per_reg=${BEST_US[$s]} bytes_per_binding=${MEM_B[$s]}"
done
echo "steps: $STEPS"
