#!/usr/bin/env bash
# Installs every Debian package that the build, the tests, the fuzzers and the benchmarks
# need. Idempotent: `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config g++ ragel
  libuv1-dev libc-ares-dev libssl-dev libsqlite3-dev libfmt-dev catch2 libtomlplusplus-dev
  libmicrohttpd-dev
  # trunkline's malloc (meson option allocator; DESIGN.md §8)
  libjemalloc-dev
  # alert webhooks (HTTP and HTTPS POST from a worker thread)
  libcurl4-openssl-dev
  # IANA time zones (/usr/share/zoneinfo) for billing's work calendar (trunkctl, trunkline, tests)
  tzdata
  # fuzzing (libFuzzer + sanitizer runtimes)
  clang-14 libclang-rt-14-dev llvm-14
  # tests against real peers
  sip-tester kamailio kamailio-sqlite-modules dnsmasq-base sqlite3 python3 valgrind stunnel4 openssl
  baresip
  # SIP capture: the HEP and pcap tests open what trunkline captured
  tshark
  # the install test: systemd-analyze verify on the installed unit, man for its man pages
  systemd man-db
  # the web console's browser test (tests/integration/console_test.py): headless Chromium
  # driven over the DevTools protocol (a WebSocket)
  chromium python3-websocket
  # the call benchmark's API poller (bench/run_calls_bench.sh PHASES=apipoll)
  curl
  # build cache: the CI run compiles two trees and the fuzzers; ccache keeps repeats cheap
  ccache
  # peer parsers for the side-by-side benchmark
  libsofia-sip-ua-dev libosip2-dev libre-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
