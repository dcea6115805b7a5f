#!/usr/bin/env bash
# Runs every parser_bench_* of a build directory side by side and prints one markdown table:
# instructions per message (callgrind), ns/msg, MB/s and heap allocations per message, and
# each parser's cost relative to Trunkline. Builds nothing.
#
#   bench/run_parser_bench.sh [BUILDDIR] [--rounds N] [--callgrind-iterations K]
#                             [--no-callgrind] [-- ARGS...]
#
#   BUILDDIR                  meson build directory (default: build)
#   --rounds N                timed runs of each binary, interleaved; the table shows the best
#                             (least disturbed) one (default: 3)
#   --callgrind-iterations K  passes in the long callgrind run (default: 10)
#   --no-callgrind            skip the instruction counts (valgrind is slow)
#   ARGS                      passed to every binary, e.g. a corpus directory
#
# Instructions per message: each binary runs twice under `valgrind --tool=callgrind`, once
# with `--warmup 1 --iterations 0` (start-up, corpus loading, the checking pass and one
# warm-up pass) and once with `--warmup 1 --iterations K`; the difference is K passes of
# steady-state parsing, so Ir/msg = (Ir_K - Ir_0) / (K * messages). LD_BIND_NOW keeps lazy
# symbol binding out of both. Callgrind counts are deterministic; timings are not, so use a
# release build (meson setup --buildtype=release) on an otherwise idle machine.
#
# Exit status: 0 when every parser parsed every message, 1 otherwise, 2 on usage errors.
set -euo pipefail

builddir=build
rounds=3
cg_iterations=10
callgrind=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=${2:?}; shift 2 ;;
    --callgrind-iterations) cg_iterations=${2:?}; shift 2 ;;
    --no-callgrind) callgrind=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run_parser_bench.sh: unknown option $1" >&2; exit 2 ;;
    *) builddir=$1; shift ;;
  esac
done
if [ "$callgrind" = 1 ] && ! command -v valgrind >/dev/null; then
  echo "run_parser_bench.sh: valgrind not found; instruction counts skipped" >&2
  callgrind=0
fi

bindir=$builddir/bench
if [ ! -d "$bindir" ]; then
  echo "run_parser_bench.sh: no $bindir; configure with -Dbench=true and build first" >&2
  exit 2
fi

# Trunkline first (the ratios are relative to it), then the peers present in this build.
binaries=()
for name in trunkline sofia osip2 libre; do
  [ -x "$bindir/parser_bench_$name" ] && binaries+=("$bindir/parser_bench_$name")
done
for b in "$bindir"/parser_bench_*; do
  if [ ! -f "$b" ] || [ ! -x "$b" ]; then continue; fi
  case " ${binaries[*]} " in *" $b "*) ;; *) binaries+=("$b") ;; esac
done
if [ ${#binaries[@]} -eq 0 ]; then
  echo "run_parser_bench.sh: no parser_bench_* in $bindir" >&2
  exit 2
fi

# Assertions (b_ndebug=if-release) and lower -O levels make other build types unfit for
# comparing times; instruction counts suffer the same way.
info=$builddir/meson-info/intro-buildoptions.json
if [ -f "$info" ] && command -v python3 >/dev/null; then
  buildtype=$(python3 -c 'import json, sys
opts = json.load(open(sys.argv[1]))
print(next((o["value"] for o in opts if o["name"] == "buildtype"), "?"))' "$info")
  if [ "$buildtype" != release ]; then
    echo "note: $builddir has buildtype=$buildtype; compare parsers in a release build" >&2
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# --- timed runs, round-robin so that a disturbance hits every parser alike -----------------
# Each binary prints: <name>  <ns/msg>  <MB/s>  <allocs/msg>  <ok>/<messages>. The awk
# pattern picks that line out should a library also write to stdout.
# shellcheck disable=SC2016  # an awk program, not a shell expansion
result_line='NF == 5 && $2 ~ /^[0-9.]+$/ && $5 ~ /^[0-9]+\/[0-9]+$/'
for b in "${binaries[@]}"; do
  : >"$tmp/$(basename "$b").runs"
done
for ((round = 1; round <= rounds; ++round)); do
  for b in "${binaries[@]}"; do
    key=$(basename "$b")
    "$b" "${extra[@]}" >>"$tmp/$key.runs" 2>>"$tmp/$key.err" || status=1
  done
done

# --- instruction counts ---------------------------------------------------------------------
# Prints the instructions per message of one binary, or n/a (and fails) if a run failed.
instr_per_msg() {
  local b=$1 key k ir0 irk msgs
  key=$(basename "$b")
  for k in 0 "$cg_iterations"; do
    if ! LD_BIND_NOW=1 valgrind --tool=callgrind --callgrind-out-file="$tmp/$key.cg$k" \
        "$b" --warmup 1 --iterations "$k" "${extra[@]}" \
        >"$tmp/$key.cgout$k" 2>"$tmp/$key.cglog$k"; then
      { echo "under callgrind (--iterations $k):"; tail -n 20 "$tmp/$key.cglog$k"; } \
        >>"$tmp/$key.err"
      echo n/a
      return 1
    fi
  done
  ir0=$(awk '/^summary:/ {print $2}' "$tmp/$key.cg0")
  irk=$(awk '/^summary:/ {print $2}' "$tmp/$key.cg$cg_iterations")
  msgs=$(awk "$result_line"' {split($5, a, "/"); print a[2]}' "$tmp/$key.cgout0")
  awk -v a="$ir0" -v b="$irk" -v k="$cg_iterations" -v m="$msgs" \
    'BEGIN { if (k > 0 && m > 0) printf "%.0f\n", (b - a) / (k * m); else print "n/a" }'
}

for b in "${binaries[@]}"; do
  key=$(basename "$b")
  if [ "$callgrind" = 1 ] && [ "$cg_iterations" -gt 0 ]; then
    instr_per_msg "$b" >"$tmp/$key.ir" || status=1
  else
    echo n/a >"$tmp/$key.ir"
  fi
done

# --- report ---------------------------------------------------------------------------------
for b in "${binaries[@]}"; do
  key=$(basename "$b")
  if [ -s "$tmp/$key.err" ]; then
    echo "$key:" >&2
    sed 's/^/  /' "$tmp/$key.err" >&2
  fi
done

# One row per binary: name, Ir/msg, then the best round's ns/msg, MB/s, allocs/msg; a round
# whose ok count falls short of the message count marks the row failed.
for b in "${binaries[@]}"; do
  key=$(basename "$b")
  awk "$result_line" "$tmp/$key.runs" | sort -k2,2g |
    awk -v ir="$(cat "$tmp/$key.ir")" -v key="$key" '
    NR == 1 { name = $1; ns = $2; mbs = $3; allocs = $4 }
    { split($5, a, "/"); if (a[1] != a[2]) failed = $5 }
    END {
      if (NR == 0) { print key, ir, "n/a", "n/a", "n/a", "FAILED"; exit }
      print name, ir, ns, mbs, allocs, (failed != "" ? "FAILED:" failed : "ok")
    }'
done | awk -v rounds="$rounds" -v cgk="$((callgrind ? cg_iterations : 0))" '
  function grouped(x,    s) {  # 1234567 -> 1,234,567
    if (x !~ /^[0-9]+$/) return x
    s = ""
    while (length(x) > 3) { s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) }
    return x s
  }
  function fixed(x) { return x ~ /^[0-9.]+$/ ? sprintf("%.1f", x) : x }
  function ratio(v, base) {
    if (v !~ /^[0-9.]+$/ || base !~ /^[0-9.]+$/ || base + 0 == 0) return "n/a"
    return sprintf("%.1f×", v / base)
  }
  { name[NR] = $1; ir[NR] = $2; ns[NR] = $3; mbs[NR] = $4; al[NR] = $5; st[NR] = $6 }
  $1 == "trunkline" && $6 == "ok" { base_ir = $2; base_ns = $3 }
  END {
    print "| parser | instructions/msg | ns/msg | MB/s | allocs/msg" \
          " | instr. vs Trunkline | time vs Trunkline |"
    print "|---|---:|---:|---:|---:|---:|---:|"
    for (i = 1; i <= NR; i++) {
      label = name[i] (st[i] == "ok" ? "" : " (" st[i] ")")
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", label, grouped(ir[i]), fixed(ns[i]),
             fixed(mbs[i]), fixed(al[i]), ratio(ir[i], base_ir), ratio(ns[i], base_ns)
    }
    printf "\nns/msg, MB/s: best of %d interleaved runs of about 1 s each. ", rounds
    if (cgk > 0)
      printf "instructions/msg: callgrind, (Ir[%d passes] - Ir[0 passes]) / (%d × messages). ",
             cgk, cgk
    print "Ratios: parser / Trunkline, so 8.0× means eight times the cost of Trunkline."
  }'

exit $status
