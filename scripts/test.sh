#!/usr/bin/env bash
# Quick start, step 2: install what is missing, build, and run every test:
#   1. the Catch2 unit tests, corpus replays and integration tests (SIPp against trunkline)
#      in a -Werror build;
#   2. the same suites again under ASan+UBSan;
#   3. a release build of the whole tree as a user or packager makes it (meson setup
#      --buildtype=release, no -Werror): built only, not tested again;
#   4. the layering check (DESIGN.md §2);
#   5. every libFuzzer target for FUZZ_SECONDS (default 60) each.
# Ends with one line "N passed, N failed, N skipped" for the whole run (skipped: what truly
# cannot run on this machine, never counted as passed); exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

# ccache (installed by setup.sh, picked up by meson) keys on paths relative to the tree, so a
# clone in another folder (CI) reuses what an earlier run compiled
export CCACHE_BASEDIR="$root"

results="$root/build-test-results.tsv"
: >"$results"
record() { printf '%s\t%s\n' "$1" "$2" >>"$results"; }

build() {  # DIR [meson options...]
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" --wrap-mode=nofallback -Dwerror=true "$@" >"$dir.setup.log" 2>&1 ||
      { cat "$dir.setup.log"; return 1; }
  fi
  nice meson compile -C "$dir" -j2
}

run_suites() {  # DIR LABEL
  local dir=$1 label=$2
  rm -rf "$dir/test-reports"
  mkdir -p "$dir/test-reports"
  meson test -C "$dir" --num-processes 2 --print-errorlogs --no-rebuild
  python3 tools/test_summary.py --label "$label" "$dir" >>"$results"
}

# 1. warnings are errors
if build build-test --buildtype=debugoptimized; then
  run_suites build-test ""
else
  record "build: -Werror build" FAIL
fi

# 2. sanitizers (benchmarks are not built there)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
if build build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false; then
  run_suites build-asan "asan: "
else
  record "build: ASan+UBSan build" FAIL
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# 3. the release build (GCC 12 at -O3 warns where -O2 does not; a warning must never stop a
# user's build, while the -Werror build above keeps the tree warning-free for CI)
if { [ -f build-release/build.ninja ] ||
     meson setup build-release --wrap-mode=nofallback --buildtype=release \
       >build-release.setup.log 2>&1; } &&
   nice meson compile -C build-release -j2 >build-release.log 2>&1; then
  record "build: release build (--buildtype=release, no -Werror)" PASS
  warnings=$(grep -c 'warning:' build-release.log)
  [ "$warnings" -eq 0 ] || echo "release build: $warnings compiler warnings (see build-release.log)"
else
  tail -n 40 build-release.setup.log build-release.log 2>/dev/null
  record "build: release build (--buildtype=release, no -Werror)" FAIL
fi

# 4. layering
if bash tools/check_layering.sh; then record "layering: DESIGN.md section 2" PASS
else record "layering: DESIGN.md section 2" FAIL; fi

# 5. fuzzing: every target, FUZZ_SECONDS each; a target that crashed, leaked or tripped a
# sanitizer fails, and so does a fuzz build that does not build
fuzzlog=$(mktemp)
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}" 2>&1 | tee "$fuzzlog"
fuzz_rc=${PIPESTATUS[0]}
grep -E '^fuzz [a-z_]+: .*, (OK|CRASH)$' "$fuzzlog" |
  sed -E 's/^fuzz ([a-z_]+): .*, (OK|CRASH)$/fuzz: \1\t\2/; s/\tOK$/\tPASS/; s/\tCRASH$/\tFAIL/' >>"$results"
if [ "$fuzz_rc" -ne 0 ] && ! grep -qE '^fuzz [a-z_]+: .*CRASH$' "$fuzzlog"; then
  record "fuzz: build or run of the fuzz targets" FAIL
fi
rm -f "$fuzzlog"

passed=$(awk -F'\t' '$2=="PASS"' "$results" | wc -l)
failed=$(awk -F'\t' '$2=="FAIL"' "$results" | wc -l)
skipped=$(awk -F'\t' '$2=="SKIP"' "$results" | wc -l)
if [ "$failed" -gt 0 ]; then
  echo
  echo "failed:"
  awk -F'\t' '$2=="FAIL" {print "  " $1}' "$results"
fi
if [ "$skipped" -gt 0 ]; then
  echo
  echo "skipped:"
  awk -F'\t' '$2=="SKIP" {print "  " $1}' "$results"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
