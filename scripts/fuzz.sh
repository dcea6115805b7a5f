#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/*_fuzzer.cpp, DESIGN.md §9) with clang and runs each one
# for a fixed time, one after another.
#
#   scripts/fuzz.sh                 # every target, 60 s each (FUZZ_SECONDS overrides)
#   scripts/fuzz.sh 300             # every target, 300 s each
#   scripts/fuzz.sh 30 uri header   # only these targets
#
# Environment: FUZZ_SECONDS (default 60), FUZZ_BUILD_DIR (default build-fuzz, gitignored),
# CXX for the fuzz build (default clang++-14).
#
# The seed corpus fuzz/corpus/<target>/ is only read: each run works on a copy in a temp
# dir, so new inputs never land in the repository. Crash, leak, timeout and OOM inputs are
# copied to fuzz/artifacts/<target>-<kind>-<sha1> (gitignored) with the run's log next to
# them. Exit status is non-zero when any target crashed, leaked, timed out or produced a
# sanitizer report. Per target it prints:
#   fuzz <target>: <runs> runs, <cov> coverage, OK|CRASH
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${FUZZ_SECONDS:-60}"
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
artifacts="$root/fuzz/artifacts"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for src in "$root"/fuzz/*_fuzzer.cpp; do
    t="$(basename "$src" _fuzzer.cpp)"
    targets+=("$t")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no targets in fuzz/" >&2
  exit 2
fi

# --- build
buildlog="$(mktemp "${TMPDIR:-/tmp}/trunkline-fuzz-build.XXXXXX")"
if [ ! -f "$build/build.ninja" ]; then
  if ! CXX="${CXX:-clang++-14}" meson setup "$build" "$root" \
      -Dfuzz=true -Dtests=false -Dbench=false -Dbilling=false -Db_lundef=false \
      --wrap-mode=nofallback >"$buildlog" 2>&1; then
    tail -n 30 "$buildlog" >&2
    echo "fuzz: meson setup failed" >&2
    exit 2
  fi
fi
ninja_targets=()
for t in "${targets[@]}"; do ninja_targets+=("fuzz/${t}_fuzzer"); done
if ! ninja -C "$build" "${ninja_targets[@]}" >"$buildlog" 2>&1; then
  grep -E -A5 'FAILED|error' "$buildlog" | head -n 40 >&2
  echo "fuzz: build failed" >&2
  exit 2
fi
rm -f "$buildlog"

# --- run
tmp="$(mktemp -d "${TMPDIR:-/tmp}/trunkline-fuzz.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && [ -x /usr/lib/llvm-14/bin/llvm-symbolizer ]; then
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-14/bin/llvm-symbolizer
fi

status=0
for t in "${targets[@]}"; do
  exe="$build/fuzz/${t}_fuzzer"
  corpus="$tmp/corpus-$t"
  art="$tmp/artifacts-$t/"
  log="$tmp/$t.log"
  mkdir -p "$corpus" "$art"
  if [ -d "$root/fuzz/corpus/$t" ]; then
    cp -R "$root/fuzz/corpus/$t/." "$corpus/"
  fi

  rc=0
  "$exe" "$corpus" \
    -dict="$root/fuzz/sip.dict" \
    -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$art" >"$log" 2>&1 || rc=$?

  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1 || true)"
  cov="$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -n1 | cut -d' ' -f2)"
  runs="${runs:-?}"
  cov="${cov:-?}"

  bad=0
  [ "$rc" -ne 0 ] && bad=1
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:|fuzz invariant failed' "$log"; then
    bad=1
  fi
  found=()
  for a in "$art"*; do
    [ -f "$a" ] || continue
    name="$(basename "$a")"
    case "$name" in
      crash-*|leak-*|timeout-*|oom-*) ;;
      *) continue ;;
    esac
    bad=1
    mkdir -p "$artifacts"
    cp "$a" "$artifacts/$t-$name"
    found+=("fuzz/artifacts/$t-$name")
  done

  if [ "$bad" -eq 0 ]; then
    echo "fuzz $t: $runs runs, $cov coverage, OK"
  else
    status=1
    mkdir -p "$artifacts"
    cp "$log" "$artifacts/$t.log"
    echo "fuzz $t: $runs runs, $cov coverage, CRASH"
    for f in "${found[@]}"; do echo "  input: $f"; done
    echo "  log:   fuzz/artifacts/$t.log"
    (grep -m1 -E 'ERROR: |runtime error:|fuzz invariant failed' "$log" || true) | sed 's/^/  /'
  fi
done
exit "$status"
